import { main } from './cli.js';

// The AWS SDK warns on every S3 command under Node < 22 that its *future* releases will need Node 22; this
// tool pins its SDK version, so the warning is noise a developer cannot act on.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

process.exitCode = await main(process.argv.slice(2));
