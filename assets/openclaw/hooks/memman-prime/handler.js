// memman-prime: on agent:bootstrap, run `<memman> prime` and inject what it prints
// (memory status and the usage guide) as the bootstrap file MEMMAN.md.
//
// The gateway runs with a minimal PATH, so the absolute memman path is read from
// memman-bin.json, which `memman install` writes beside this file. The command gets
// 3 seconds and an empty stdin. If memman is missing, fails, times out or prints
// nothing, the hook injects nothing and never throws: the agent starts as usual.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));
const TIMEOUT_MS = 3000;
const MAX_CHARS = 20000;
const FILE_NAME = "MEMMAN.md";

function readInstall() {
  try {
    const data = JSON.parse(readFileSync(join(HERE, "memman-bin.json"), "utf8"));
    return data && typeof data === "object" ? data : {};
  } catch {
    return {};
  }
}

function runPrime(install) {
  const bin = typeof install.memman === "string" && install.memman ? install.memman : "memman";
  const env = { ...process.env, MEMMAN_HOST: "openclaw" };
  if (typeof install.data_dir === "string" && install.data_dir && !env.MEMMAN_DATA_DIR) {
    env.MEMMAN_DATA_DIR = install.data_dir;
  }
  return new Promise((resolve) => {
    try {
      const child = execFile(bin, ["prime"], {
        env,
        timeout: TIMEOUT_MS,
        killSignal: "SIGKILL",
        maxBuffer: 1024 * 1024,
        encoding: "utf8",
        windowsHide: true,
      }, (error, stdout) => resolve(error ? "" : String(stdout ?? "")));
      child.on("error", () => resolve(""));
      child.stdin?.on("error", () => {});
      child.stdin?.end();
    } catch {
      resolve("");
    }
  });
}

// `memman prime` prints text; accept a Claude-style JSON envelope too.
function textOf(stdout) {
  const raw = stdout.trim();
  if (raw.startsWith("{")) {
    try {
      const data = JSON.parse(raw);
      const found = data?.hookSpecificOutput?.additionalContext ?? data?.additionalContext
        ?? data?.context ?? data?.text;
      if (typeof found === "string") {
        return found.trim();
      }
    } catch {
      // plain text that happens to start with a brace
    }
  }
  return raw;
}

function isBootstrap(event) {
  return Boolean(event) && ((event.type === "agent" && event.action === "bootstrap")
    || event.type === "agent:bootstrap");
}

export default async function memmanPrime(event) {
  try {
    if (!isBootstrap(event)) {
      return;
    }
    const context = event.context;
    if (!context || !Array.isArray(context.bootstrapFiles)) {
      return;
    }
    let content = textOf(await runPrime(readInstall()));
    if (!content) {
      return;
    }
    if (content.length > MAX_CHARS) {
      content = content.slice(0, MAX_CHARS);
    }
    const file = { name: FILE_NAME, path: `memman/${FILE_NAME}`, content, missing: false };
    const at = context.bootstrapFiles.findIndex((f) => f && f.name === FILE_NAME);
    if (at >= 0) {
      context.bootstrapFiles[at] = file;
    } else {
      context.bootstrapFiles.push(file);
    }
  } catch {
    // never break the agent's bootstrap
  }
}
