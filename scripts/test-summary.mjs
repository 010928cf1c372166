// Reads one test file's result from its uvu output and exit status. Kept apart from the runner so
// the runner's own test can check it: a failure reported as a pass is the worst bug a runner has.

const strip = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** The last uvu summary block in the output (a test may print "Total:" itself), or null. */
export function lastSummary(output) {
  const text = strip(output);
  const re = /^\s*Total:\s+(\d+)\s*\n\s*Passed:\s+(\d+)\s*\n\s*Skipped:\s+(\d+)/gm;
  let last = null;
  for (let m = re.exec(text); m; m = re.exec(text)) last = { total: Number(m[1]), passed: Number(m[2]), skipped: Number(m[3]) };
  return last;
}

/**
 * A file's counts. uvu's Total counts the tests that ran (skipped ones are not in it), so failures
 * are Total - Passed. A crash, a timeout, a non-zero exit or a missing summary is at least one
 * failure, and no count is ever negative.
 */
export function fileResult(output, exitCode, { timedOut = false } = {}) {
  const summary = lastSummary(output);
  const passed = summary ? Math.min(summary.passed, summary.total) : 0;
  let failed = summary ? Math.max(0, summary.total - summary.passed) : 0;
  let reason = null;
  if (timedOut) reason = 'timed out';
  else if (!summary) reason = 'printed no test summary';
  else if (exitCode !== 0) reason = `exited with ${exitCode ?? 'a signal'}`;
  if (reason && failed === 0) failed = 1;
  return { passed, failed, skipped: summary?.skipped ?? 0, reason };
}
