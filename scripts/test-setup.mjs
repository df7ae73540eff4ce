// Makes sure what the tests need is on this machine: Debian's Chromium for the browser tests, and
// Debian's nginx for the multi-process tests (they run their own nginx in front of several servers).
// Never downloads a browser build: both come from apt-get.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const CHROMIUM = process.env.INKBOARD_CHROMIUM ?? '/usr/bin/chromium';
const NGINX = '/usr/sbin/nginx';
// Debian's policy hook: exit code 101 tells invoke-rc.d not to start services during the install.
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

const isRoot = process.getuid?.() === 0;
const run = (command) => execSync(command, { stdio: 'inherit' });

/** nginx-light where the repository has it (Debian 12 does), plain nginx otherwise. */
function nginxPackage() {
  try {
    const policy = execSync('apt-cache policy nginx-light', { encoding: 'utf8' });
    if (/Candidate:\s*(?!\(none\))\S+/.test(policy)) return 'nginx-light';
  } catch {
    // apt-cache missing or failing: fall through to the plain package
  }
  return 'nginx';
}

/**
 * The package's postinst would start a system nginx on port 80. The tests start their own nginx
 * and must not depend on (or collide with) one, so services are kept from starting during the install,
 * and one that started anyway is stopped.
 */
function installWithoutStartingServices(packages) {
  const addedPolicy = !existsSync(POLICY_RC_D);
  if (addedPolicy) writeFileSync(POLICY_RC_D, '#!/bin/sh\n# added by inkboard scripts/test-setup.mjs during apt-get install\nexit 101\n', { mode: 0o755 });
  try {
    run(`DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ${packages.join(' ')}`);
  } finally {
    if (addedPolicy) rmSync(POLICY_RC_D, { force: true });
  }
  if (packages.some((p) => p.startsWith('nginx'))) stopSystemNginx();
}

function stopSystemNginx() {
  const pidFile = '/run/nginx.pid';
  if (!existsSync(pidFile)) return;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale pid file
  }
  console.log('Stopping the system nginx that the install started (the tests run their own)...');
  try {
    execSync('systemctl disable --now nginx', { stdio: 'ignore' });
  } catch {
    try {
      process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
}

const missing = [];
if (!existsSync(CHROMIUM)) missing.push('chromium');
if (!existsSync(NGINX)) missing.push('nginx');

if (missing.length > 0) {
  if (!isRoot) {
    if (missing.includes('chromium')) console.error(`Chromium is missing at ${CHROMIUM}. Install it with: sudo apt-get update && sudo apt-get install -y chromium`);
    if (missing.includes('nginx')) console.error(`nginx is missing at ${NGINX}. Install it with: sudo apt-get update && sudo apt-get install -y nginx-light`);
    process.exit(1);
  }
  // One apt-get update for everything that is missing.
  run('apt-get update -qq');
  const packages = [];
  if (missing.includes('chromium')) {
    console.log('Installing Chromium for the browser tests (apt-get install chromium)...');
    packages.push('chromium');
  }
  if (missing.includes('nginx')) {
    const pkg = nginxPackage();
    console.log(`Installing nginx for the multi-process tests (apt-get install ${pkg})...`);
    packages.push(pkg);
  }
  installWithoutStartingServices(packages);
  if (!existsSync(CHROMIUM)) {
    console.error(`apt-get finished but ${CHROMIUM} is still missing.`);
    process.exit(1);
  }
  if (!existsSync(NGINX)) {
    console.error(`apt-get finished but ${NGINX} is still missing.`);
    process.exit(1);
  }
}
console.log(`test setup: chromium at ${CHROMIUM}`);
console.log(`test setup: nginx at ${NGINX}`);
