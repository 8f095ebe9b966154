// Run by wrong-port.itg.test.ts in a child process with a small heap (a driver that misreads a greeting can
// fill it synchronously, which no test timeout can interrupt): connects to argv[2], waiting argv[3] seconds,
// and prints the outcome as one line of JSON.
import { connectMongo } from '../src/internal/connect.js';

const [url = '', wait = '0'] = process.argv.slice(2);
try {
  const client = await connectMongo(url, { waitSeconds: Number(wait) });
  await client.close();
  console.log(JSON.stringify({ outcome: 'connected' }));
} catch (error) {
  const { name, message, code } = error as Error & { code?: string };
  console.log(JSON.stringify({ outcome: 'failed', name, code, message }));
}
