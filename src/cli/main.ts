/** The `herald` command (bin/herald.js loads this); see the README's "Command line". */
import { run } from './cli.js';

// `herald history | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await run(process.argv.slice(2));
