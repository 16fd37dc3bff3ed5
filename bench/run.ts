// `npm run bench -- <options>`: the recall/latency harness's command line (see --help).
// Only calls the harness's main(); everything else lives in bench/harness and bench/datasets.

import { main } from './harness/main.js';

process.exitCode = await main(process.argv.slice(2));
