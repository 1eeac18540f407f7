// The bench's fan-out done the BullMQ way, as the peer the project is measured against (Bot.Bench --peer bullmq).
// One job per delivery, jobId = "<announcement>-<employee>" (BullMQ ignores an add whose jobId exists: its
// dedupe; it refuses ':' in a custom id), a Worker with concurrency 64 POSTing each job to the same WhatsApp stand-in the project's dispatcher
// posts to. Completed jobs are kept (BullMQ's default): like the project's delivery records, they are what
// dedupes a second add and what an employer would look at afterwards.
//
// node fanout.mjs --redis 127.0.0.1:6379 --whatsapp http://127.0.0.1:5000 --phone-number-id 123 --token t --count 100000
// Line protocol with the bench (same as the dispatcher role): after a warm-up it prints "BENCH ready", waits for
// "go" on stdin, runs the measured fan-out, prints "BENCH result {json}" and exits on "stop" or end of input.
import { Queue, Worker } from 'bullmq';
import { createInterface } from 'node:readline';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs, []));
const [host, port] = args.redis.split(':');
const connection = { host, port: Number(port), maxRetriesPerRequest: null };
const count = Number(args.count);
const concurrency = Number(args.concurrency ?? 64);
const url = `${args.whatsapp.replace(/\/$/, '')}/v23.0/${args['phone-number-id']}/messages`;
const message = 'Our end of year party is on Saturday evening!';

// The bench's employees: e000000… with phone +1650 and the id's digits (BenchWorld.EmployeeId / Phone).
const employeeId = i => `e${String(i).padStart(6, '0')}`;
const phone = id => '+1650' + id.slice(1).padStart(7, '0');

const queue = new Queue('announcements', { connection });
let completed = 0;
let failed = 0;
let waiter = null;
const worker = new Worker('announcements', async job => {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${args.token}` },
    body: JSON.stringify({
      messaging_product: 'whatsapp', recipient_type: 'individual', to: job.data.to, type: 'text',
      text: { body: message }, biz_opaque_callback_data: job.data.callback,
    }),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`WhatsApp answered ${response.status}`);
  return answer.messages?.[0]?.id;
}, { connection, concurrency });
worker.on('completed', () => { completed++; waiter?.(); });
worker.on('failed', () => { failed++; waiter?.(); });

async function fanOut(announcement, ids, phoneOf) {
  const target = completed + failed + ids.length;
  const done = new Promise(resolve => { waiter = () => { if (completed + failed >= target) resolve(); }; });
  const started = process.hrtime.bigint();
  // addBulk in chunks: one round trip per 1,000 jobs, the way a producer of 100k jobs would add them.
  for (let i = 0; i < ids.length; i += 1000) {
    await queue.addBulk(ids.slice(i, i + 1000).map(id => ({
      name: 'send', data: { to: phoneOf(id), callback: `${announcement}:${id}` }, opts: { jobId: `${announcement}-${id}` },
    })));
  }
  await done;
  waiter = null;
  return Number(process.hrtime.bigint() - started) / 1e9;
}

await worker.waitUntilReady();
// Warm-up (JIT, connections), on other phones than the measured ones, like the dispatcher's warm-up announcement.
const warm = Array.from({ length: 50 }, (_, i) => `w${String(i).padStart(3, '0')}`);
await fanOut('warmup', warm, id => '+1999' + id.slice(1).padStart(7, '0'));
console.log('BENCH ready');

const input = createInterface({ input: process.stdin });
for await (const line of input) {
  if (line === 'go') {
    const before = failed;
    const seconds = await fanOut('a1', Array.from({ length: count }, (_, i) => employeeId(i)), phone);
    console.log('BENCH result ' + JSON.stringify({ deliveries: count, seconds, failed: failed - before }));
  } else if (line === 'stop') break;
}
await worker.close();
await queue.close();
process.exit(0);
