// `npm run test:systemd`: the unit under a real systemd in a Debian 13 container
// (test/deploy/nspawn/unit.systemd.ts). Kept out of `npm test` (package.json "ava": *.test.js):
// it takes minutes and needs Debian's archive once to build its cached root.
export default {
  files: ['dist/test/deploy/nspawn/*.systemd.js'],
  workerThreads: false,
  // One container at a time: the watchdog proof measures time on a shared machine.
  concurrency: 1,
  timeout: '300s',
};
