// memman's OpenClaw plugin: before each prompt is built, prepend two short lines that
// remind the agent to recall what memman already knows and to remember what is worth
// keeping. It runs inside the gateway on every turn, so it never starts a process and
// never touches the network: the memman command is read once, at load, from
// memman-bin.json, which `memman install` writes beside this file.
//
// Options (plugins.entries.memman.config in openclaw.json; both default to true):
//   remind - the recall line;  nudge - the remember line.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

function memmanCommand() {
  try {
    const data = JSON.parse(readFileSync(join(HERE, "memman-bin.json"), "utf8"));
    if (data && typeof data.command === "string" && data.command.trim()) {
      return data.command.trim();
    }
  } catch {
    // not installed by `memman install`: fall back to PATH
  }
  return "memman";
}

function contextFor(options, command) {
  const remind = options.remind !== false;
  const nudge = options.nudge !== false;
  if (!remind && !nudge) {
    return undefined;
  }
  const lines = ["[memman] Long-term memory from earlier sessions is available (skill: memman)."];
  if (remind) {
    lines.push(`Before answering, check what is already known: ${command} recall "<2-6 focused keywords>" --limit 5`);
  }
  if (nudge) {
    lines.push(`If this message states a lasting decision, preference or fact, store it: ${command} remember "<one self-contained statement>"`);
  }
  return lines.join("\n");
}

function register(api) {
  if (typeof api?.on !== "function") {
    api?.logger?.warn?.("memman: this OpenClaw has no typed plugin hooks (api.on); reminders are off");
    return;
  }
  const command = memmanCommand();
  api.on("before_prompt_build", async (event) => {
    const options = {
      ...(api.pluginConfig && typeof api.pluginConfig === "object" ? api.pluginConfig : {}),
      ...(event?.context?.pluginConfig && typeof event.context.pluginConfig === "object"
        ? event.context.pluginConfig : {}),
    };
    const prependContext = contextFor(options, command);
    return prependContext ? { prependContext } : undefined;
  });
}

export default {
  id: "memman",
  name: "memman",
  description: "Recall/remember reminders for memman, the agent's long-term memory.",
  register,
};
