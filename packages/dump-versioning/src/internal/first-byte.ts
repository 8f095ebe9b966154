/** The variable that lengthens the S3 first-byte deadline (default 10 s), e.g. for a bucket whose listings start slowly. */
export const FIRST_BYTE_VARIABLE = 'DEVSTACK_DUMPS_S3_FIRST_BYTE_SECONDS';
