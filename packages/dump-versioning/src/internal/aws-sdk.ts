// The parts of the AWS SDK the S3 store uses. Only s3-store.ts loads this module, with a dynamic
// import on first S3 use, so nothing reachable from src/index.ts imports `@aws-sdk/*` at runtime: filesystem
// stores (and any bundle split on this module) never load the SDK. Types may still be imported anywhere.
export {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  paginateListObjectsV2,
} from '@aws-sdk/client-s3';
export { Upload } from '@aws-sdk/lib-storage';
