/** The error `body` rejects with; fails the test when it resolves instead. */
export async function rejectionOf(body: () => Promise<unknown>): Promise<Error> {
  try {
    await body();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure, but it succeeded');
}
