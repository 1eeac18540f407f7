// The bench's fan-out done the BullMQ way, as the peer the project is measured against (Bot.Bench --peer bullmq).
// One job per delivery, jobId = "<announcement>-<employee>" (BullMQ ignores an add whose jobId exists: its
// dedupe; it refuses ':' in a custom id), a Worker with concurrency 64 POSTing each job to the same WhatsApp stand-in the project's dispatcher
// posts to, over kept-alive connections (an http.Agent with keepAlive, as a production Node client would use).
// --keep-completed true (BullMQ's default): completed jobs stay, and like the project's delivery records they dedupe a
// second add after completion and are what an employer would look at afterwards. false: removeOnComplete, the fastest
// BullMQ can go, deduping only while a job waits or runs.
//
// --queues N (scenario 15, end to end): N employers, each its own queue and WhatsApp number (--phone-number-id a
// comma-separated list, one per queue) and a Worker of its own (concurrency 64, its own kept-alive connections);
// --rate R gives each Worker BullMQ's rate limiter { max: R, duration: 1000 }, WhatsApp's cap per number. The
// --count deliveries are split evenly: queue q sends to employees q × count/N … (q + 1) × count/N − 1. Without them:
// one queue, no limiter. --warm-up W: untimed deliveries per queue before "BENCH ready" (default 50).
//
// node fanout.mjs --redis 127.0.0.1:6379 --whatsapp http://127.0.0.1:5000 --phone-number-id 123 --token t --count 100000 [--keep-completed false]
//                 [--warm-up 5000] [--queues 8 --phone-number-id 1,2,3,4,5,6,7,8 --rate 1000 --phone-prefix +16502]
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
const queueCount = Number(args.queues ?? 1);
const phoneNumberIds = args['phone-number-id'].split(',');
if (phoneNumberIds.length !== queueCount) throw new Error(`--queues ${queueCount} needs as many --phone-number-id values`);
if (count % queueCount !== 0) throw new Error(`--count ${count} does not split evenly over ${queueCount} queues`);
const limiter = args.rate ? { max: Number(args.rate), duration: 1000 } : undefined;
const message = 'Our end of year party is on Saturday evening!';
const keepCompleted = (args['keep-completed'] ?? 'true') !== 'false';

// One POST over a worker's kept-alive pool; resolves with the status and the parsed answer.
function post(url, agent, body) {
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

// The bench's employees: e000000… with phone +16500 and the id's digits (BenchWorld.EmployeeId / Phone), or another
// prefix (--phone-prefix +16502: numbers libphonenumber accepts, as scenario 15 imports them through the API).
const employeeId = i => `e${String(i).padStart(6, '0')}`;
const phonePrefix = args['phone-prefix'] ?? '+16500';
const phone = id => phonePrefix + id.slice(1);

let completed = 0;
let failed = 0;
let waiter = null;
// One queue and worker per WhatsApp number; the single queue keeps its old name.
const lanes = phoneNumberIds.map((phoneNumberId, q) => {
  const name = queueCount === 1 ? 'announcements' : `announcements-${q + 1}`;
  const url = `${args.whatsapp.replace(/\/$/, '')}/v23.0/${phoneNumberId}/messages`;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const worker = new Worker(name, async job => {
    const { status, answer } = await post(url, agent, {
      messaging_product: 'whatsapp', recipient_type: 'individual', to: job.data.to, type: 'text',
      text: { body: message }, biz_opaque_callback_data: job.data.callback,
    });
    if (status < 200 || status > 299) throw new Error(`WhatsApp answered ${status}`);
    return answer.messages?.[0]?.id;
  }, { connection, concurrency, limiter });
  worker.on('completed', () => { completed++; waiter?.(); });
  worker.on('failed', () => { failed++; waiter?.(); });
  return { queue: new Queue(name, { connection }), worker, agent };
});

// Every lane's jobs added at once (lane q: announcement `${prefix}${q + 1}` to ids[q]), timed until all completed.
async function fanOut(prefix, ids, phoneOf) {
  const target = completed + failed + ids.reduce((n, list) => n + list.length, 0);
  const done = new Promise(resolve => { waiter = () => { if (completed + failed >= target) resolve(); }; });
  const started = process.hrtime.bigint();
  // addBulk in chunks: one round trip per 1,000 jobs, the way a producer of 100k jobs would add them.
  await Promise.all(lanes.map(async ({ queue }, q) => {
    const announcement = `${prefix}${q + 1}`;
    for (let i = 0; i < ids[q].length; i += 1000) {
      await queue.addBulk(ids[q].slice(i, i + 1000).map(id => ({
        name: 'send', data: { to: phoneOf(id), callback: `${announcement}:${id}` },
        opts: { jobId: `${announcement}-${id}`, removeOnComplete: !keepCompleted },
      })));
    }
  }));
  await done;
  waiter = null;
  return Number(process.hrtime.bigint() - started) / 1e9;
}

await Promise.all(lanes.map(({ worker }) => worker.waitUntilReady()));
// Warm-up (JIT, connections), on other phones than the measured ones, like the dispatcher's warm-up announcement.
const warmUps = Number(args['warm-up'] ?? 50);
const warm = lanes.map((_, q) => Array.from({ length: warmUps }, (_, i) => `w${String(q * warmUps + i).padStart(4, '0')}`));
await fanOut('warmup', warm, id => '+1999' + id.slice(1).padStart(7, '0'));
console.log('BENCH ready');

const input = createInterface({ input: process.stdin });
for await (const line of input) {
  if (line === 'go') {
    const before = failed;
    const per = count / queueCount;
    const ids = lanes.map((_, q) => Array.from({ length: per }, (_, i) => employeeId(q * per + i)));
    const seconds = await fanOut('a', ids, phone);
    console.log('BENCH result ' + JSON.stringify({ deliveries: count, seconds, failed: failed - before }));
  } else if (line === 'stop') break;
}
for (const { worker, queue, agent } of lanes) {
  await worker.close();
  await queue.close();
  agent.destroy();
}
process.exit(0);
