// Child process of the corruption tests: opens a database read-only through the public API, does one
// action and prints what came of it as one JSON line — so that a crash (out of memory, a native abort)
// shows as the child's death instead of taking the test runner down.
import { main } from '../../src/cli/main.js';
import { open } from '../../src/index.js';

const [directory, action, argument] = process.argv.slice(2) as [string, string, string | undefined];
if (action === 'verify') {
  // quiver verify --json: its exit status and the findings' messages.
  let report = '';
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string) => {
    report += chunk;
    return true;
  }) as typeof process.stdout.write;
  const status = await main(['verify', directory, '--json', '--quiet']);
  process.stdout.write = write;
  const { findings } = JSON.parse(report) as { findings: { check: string; message: string }[] };
  const result = { status, findings: findings.map((finding) => `${finding.check} ${finding.message}`) };
  process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
  process.exit(0);
}
try {
  const db = open(directory, { readOnly: true, onWarning: () => {} });
  let result: unknown;
  if (action === 'list') result = db.listCollections().length;
  else {
    const collection = db.collection('c');
    if (action === 'open') result = collection.count();
    else if (action === 'get') result = collection.get(argument!)?.id;
    else if (action === 'get-all') result = collection.get({ filter: {} }).length;
    else if (action === 'query') result = collection.query({ vector: JSON.parse(argument!) as number[], k: 5 }).length;
    else if (action === 'query-ids')
      result = collection.queryIds({ vector: JSON.parse(argument!) as number[], k: 5 }).length;
    else if (action === 'query-vectors') {
      result = collection.query({ vector: JSON.parse(argument!) as number[], k: 5, includeVectors: true }).length;
    } else if (action === 'text-query') result = collection.query({ text: argument!, k: 5 }).length;
    else if (action === 'hybrid-query') {
      result = collection.query({ vector: [3, 1, 2, 3], text: argument!, k: 5 }).length;
    } else throw new Error(`unknown action ${action}`);
  }
  db.close();
  process.stdout.write(`${JSON.stringify({ ok: true, result })}\n`);
} catch (error) {
  const code = (error as { code?: unknown }).code;
  const name = (error as Error).name;
  process.stdout.write(`${JSON.stringify({ ok: false, name, code, message: (error as Error).message })}\n`);
}
