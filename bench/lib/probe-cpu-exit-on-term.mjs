// Preloaded into lvsd (NODE_OPTIONS=--import) by `bench/probe-cpu.mjs --cpu-prof`: node writes
// the .cpuprofile only when the process exits by itself. If lvsd is still alive 2 s after
// SIGTERM (its handlers have run and stopped the daemon), exit so the profile is written.
process.on('SIGTERM', () => {
  setTimeout(() => {
    process.stderr.write(
      'probe-cpu: lvsd still alive 2 s after SIGTERM; exiting for the profile\n',
    );
    process.exit(0);
  }, 2000).unref();
});
