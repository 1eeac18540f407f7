// The bench's fan-out done the BullMQ way, as the peer the project is measured against (Bot.Bench --peer bullmq).
// One job per delivery, jobId = "<announcement>-<employee>" (BullMQ ignores an add whose jobId exists: its
// dedupe; it refuses ':' in a custom id), a Worker with concurrency 64 POSTing each job to the same WhatsApp stand-in the project's dispatcher
// posts to, over kept-alive connections (an http.Agent with keepAlive, as a production Node client would use).
// --keep-completed true (BullMQ's default): completed jobs stay, and like the project's delivery records they dedupe a
// second add after completion and are what an employer would look at afterwards. false: removeOnComplete, the fastest
// BullMQ can go, deduping only while a job waits or runs.
//
// node fanout.mjs --redis 127.0.0.1:6379 --whatsapp http://127.0.0.1:5000 --phone-number-id 123 --token t --count 100000 [--keep-completed false] [--warm-up 5000]
// Line protocol with the bench (same as the dispatcher role): after a warm-up it prints "BENCH ready", waits for
// "go" on stdin, runs the measured fan-out, prints "BENCH result {json}" and exits on "stop" or end of input.
import { Queue, Worker } from 'bullmq';
import { Agent, request } from 'node:http';
import { createInterface } from 'node:readline';

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, a, i, all) =>
  a.startsWith('--') ? [...pairs, [a.slice(2), all[i + 1]]] : pairs, []));
const [host, port] = args.redis.split(':');
const connection = { host, port: Number(port), maxRetriesPerRequest: null };
const count = Number(args.count);
const concurrency = Number(args.concurrency ?? 64);
const url = `${args.whatsapp.replace(/\/$/, '')}/v23.0/${args['phone-number-id']}/messages`;
const message = 'Our end of year party is on Saturday evening!';
const keepCompleted = (args['keep-completed'] ?? 'true') !== 'false';
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });

// One POST over the kept-alive pool; resolves with the status and the parsed answer.
function post(body) {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(url, {
      method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), authorization: `Bearer ${args.token}` },
    }, res => {
      const chunks = [];
      res.on('data', chunk => chunks.push(chunk));
      res.on('end', () => {
        try { resolve({ status: res.statusCode, answer: JSON.parse(Buffer.concat(chunks).toString('utf8')) }); } catch (e) { reject(e); }
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

// The bench's employees: e000000… with phone +1650 and the id's digits (BenchWorld.EmployeeId / Phone).
const employeeId = i => `e${String(i).padStart(6, '0')}`;
const phone = id => '+1650' + id.slice(1).padStart(7, '0');

const queue = new Queue('announcements', { connection });
let completed = 0;
let failed = 0;
let waiter = null;
const worker = new Worker('announcements', async job => {
  const { status, answer } = await post({
    messaging_product: 'whatsapp', recipient_type: 'individual', to: job.data.to, type: 'text',
    text: { body: message }, biz_opaque_callback_data: job.data.callback,
  });
  if (status < 200 || status > 299) throw new Error(`WhatsApp answered ${status}`);
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
      name: 'send', data: { to: phoneOf(id), callback: `${announcement}:${id}` },
      opts: { jobId: `${announcement}-${id}`, removeOnComplete: !keepCompleted },
    })));
  }
  await done;
  waiter = null;
  return Number(process.hrtime.bigint() - started) / 1e9;
}

await worker.waitUntilReady();
// Warm-up (JIT, connections), on other phones than the measured ones, like the dispatcher's warm-up announcement.
const warm = Array.from({ length: Number(args['warm-up'] ?? 50) }, (_, i) => `w${String(i).padStart(4, '0')}`);
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
agent.destroy();
process.exit(0);
