#!/usr/bin/env bash
# Replays the Dockerfile without Docker: the .dockerignore-filtered build context, the build stage
# (npm ci + npm run build), the production-only runtime dir, then `authgate serve` as an unprivileged user
# with a read-only app dir, checking /healthz, /readyz, the HEALTHCHECK command and a 401 on a protected route.
#
# Usage: scripts/replay-dockerfile.sh [--list-context]
#   --list-context            print the build context (git files minus .dockerignore) and exit
# Environment:
#   REPLAY_RUNTIME_INSTALL=ci|prune  runtime deps: `npm ci --omit=dev` like the Dockerfile (default), or
#                                    `npm prune --omit=dev` on a copy of the build stage's node_modules (faster)
#   REPLAY_UID=10001                 uid/gid the server runs as (setpriv); falls back to `runuser -u nobody`
#   REPLAY_KEEP=1                    keep the temp dir (it is always kept after a failure)
#   REPLAY_TIMEOUT=60                seconds to wait for /healthz and /readyz
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# ---- build context: what `docker build .` would send, restricted to files git knows (tracked or not ignored) ----
list_context() {
  git ls-files -z --cached --others --exclude-standard | node -e '
    // .dockerignore semantics (moby/patternmatcher): patterns are rooted at the context, `*` and `?`
    // stay within one path segment, `**` spans segments, a matched directory excludes everything below,
    // `!pattern` re-includes, and the last matching line wins.
    const fs = require("node:fs");
    const lines = fs.existsSync(".dockerignore") ? fs.readFileSync(".dockerignore", "utf8").split(/\r?\n/) : [];
    const rules = [];
    for (let raw of lines) {
      raw = raw.trim();
      if (!raw || raw.startsWith("#")) continue;
      const negate = raw.startsWith("!");
      let p = (negate ? raw.slice(1) : raw).trim().replace(/^\/+/, "").replace(/\/+$/, "");
      p = p.split("/").filter((s) => s !== "" && s !== ".").join("/");
      let re = "";
      for (let i = 0; i < p.length; i++) {
        const ch = p[i];
        if (ch === "*" && p[i + 1] === "*") {
          i++;
          if (p[i + 1] === "/") { i++; re += "(?:.*/)?"; } else re += ".*";
        } else if (ch === "*") re += "[^/]*";
        else if (ch === "?") re += "[^/]";
        else re += ch.replace(/[.+^${}()|[\]\\]/g, "\\$&");
      }
      rules.push({ negate, re: new RegExp("^" + re + "$") });
    }
    const excluded = (file) => {
      const parts = file.split("/");
      let out = false;
      for (const r of rules) {
        for (let i = 1; i <= parts.length; i++) {
          if (r.re.test(parts.slice(0, i).join("/"))) { out = !r.negate; break; }
        }
      }
      return out;
    };
    const files = require("node:fs").readFileSync(0, "utf8").split("\0").filter(Boolean);
    const keep = [...new Set(files)].filter((f) => fs.existsSync(f) && fs.statSync(f).isFile() && !excluded(f)).sort();
    process.stdout.write(keep.join("\0") + (keep.length ? "\0" : ""));
  '
}

if [[ "${1:-}" == "--list-context" ]]; then
  list_context | tr '\0' '\n'
  exit 0
fi

log() { printf '[replay] %s\n' "$*"; }
PASS=0
FAIL=0
ok() { PASS=$((PASS + 1)); printf 'ok   %s\n' "$*"; }
bad() { FAIL=$((FAIL + 1)); printf 'FAIL %s\n' "$*"; }

for step in 'npm ci' 'npm run build' 'npm ci --omit=dev' 'COPY policies.yaml' 'ENTRYPOINT \["node", "bin/authgate.js"\]'; do
  grep -Eq "$step" Dockerfile || log "warning: the Dockerfile no longer contains '$step'; this replay may have drifted from it"
done
[[ -f package-lock.json ]] || { log "package-lock.json is missing: npm ci (and the Dockerfile) need it"; exit 1; }
[[ -f policies.yaml ]] || { log "policies.yaml is missing: the Dockerfile copies it into the image"; exit 1; }

RUN_UID="${REPLAY_UID:-10001}"
if command -v setpriv >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
  RUN_AS=(setpriv "--reuid=$RUN_UID" "--regid=$RUN_UID" --clear-groups --)
  RUN_OWNER="$RUN_UID:$RUN_UID"
elif command -v runuser >/dev/null 2>&1 && [[ "$(id -u)" == 0 ]]; then
  RUN_AS=(runuser -u nobody --)
  RUN_OWNER="nobody:$(id -gn nobody)"
else
  log "needs root with setpriv or runuser to drop privileges"; exit 1
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/authgate-replay.XXXXXX")"
chmod 0755 "$WORK"
SERVER_PID=""
cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  if [[ $rc -eq 0 && "${REPLAY_KEEP:-0}" != 1 ]]; then rm -rf "$WORK"; else log "kept $WORK"; fi
}
trap cleanup EXIT

# ---- stage "build": COPY package*.json; npm ci; COPY . .; npm run build ----
BUILD="$WORK/build"
mkdir -p "$BUILD"
list_context | tar -C "$ROOT" --null -T - -cf - | tar -C "$BUILD" -xf -
for f in .git .env node_modules dist data; do
  [[ -e "$BUILD/$f" ]] && { log "build context contains $f: .dockerignore does not exclude it"; exit 1; }
done
log "build context: $(find "$BUILD" -type f | wc -l) files"
log "build stage: npm ci && npm run build (log: $WORK/build.log)"
if ! (cd "$BUILD" && npm ci --no-audit --no-fund && npm run build) >"$WORK/build.log" 2>&1; then
  tail -n 40 "$WORK/build.log"; log "build stage failed"; exit 1
fi

# ---- stage "deps" + "runtime": production node_modules, package*.json, dist/, bin/, policies.yaml ----
APP="$WORK/app"
mkdir -p "$APP"
cp "$BUILD/package.json" "$BUILD/package-lock.json" "$APP/"
if [[ "${REPLAY_RUNTIME_INSTALL:-ci}" == prune ]]; then
  log "deps stage: copy build node_modules + npm prune --omit=dev"
  cp -a "$BUILD/node_modules" "$APP/node_modules"
  (cd "$APP" && npm prune --omit=dev --no-audit --no-fund) >"$WORK/deps.log" 2>&1 || { tail -n 40 "$WORK/deps.log"; exit 1; }
else
  log "deps stage: npm ci --omit=dev (log: $WORK/deps.log)"
  (cd "$APP" && npm ci --omit=dev --no-audit --no-fund) >"$WORK/deps.log" 2>&1 || { tail -n 40 "$WORK/deps.log"; exit 1; }
fi
cp -a "$BUILD/dist" "$APP/dist"
cp -a "$ROOT/bin" "$APP/bin"
cp "$ROOT/policies.yaml" "$APP/policies.yaml"
[[ -d "$APP/node_modules/typescript" ]] && bad "runtime node_modules contains dev dependency typescript" || ok "runtime has production dependencies only"
chown -R root:root "$APP"
chmod -R a+rX,go-w "$APP"

DATA="$WORK/data"
mkdir -p "$DATA/outbox" "$DATA/tmp"
chown -R "$RUN_OWNER" "$DATA"
chmod 0750 "$DATA"

# ---- run: USER 10001, read-only app, writable /data only ----
if "${RUN_AS[@]}" sh -c "touch '$APP/write-probe'" 2>/dev/null; then bad "the app dir is writable by the unprivileged user"; else ok "the app dir is read-only to the unprivileged user"; fi
if "${RUN_AS[@]}" sh -c "touch '$DATA/write-probe' && rm '$DATA/write-probe'"; then ok "the data dir is writable by the unprivileged user"; else bad "the data dir is not writable"; fi

PORT="$(node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
NODE="$(command -v node)"
RUN_ENV=(env -i "PATH=$(dirname "$NODE"):/usr/bin:/bin" HOME=/nonexistent "TMPDIR=$DATA/tmp" NODE_ENV=production
  "DATABASE_URL=sqlite:$DATA/authgate.sqlite" "AUTHGATE_MAIL_OUTBOX_DIR=$DATA/outbox"
  "POLICIES_FILE=$APP/policies.yaml" HOST=127.0.0.1 "PORT=$PORT")
touch "$WORK/started"
log "starting: node bin/authgate.js serve as $RUN_OWNER on 127.0.0.1:$PORT (log: $WORK/server.log)"
(cd "$APP" && exec "${RUN_AS[@]}" "${RUN_ENV[@]}" "$NODE" bin/authgate.js serve) >"$WORK/server.log" 2>&1 &
SERVER_PID=$!

# status METHOD URL [HOST] -> prints the HTTP status (000 when the connection fails)
status() {
  node -e '
    const [method, url, host] = process.argv.slice(1);
    const u = new URL(url);
    const req = require("node:http").request({ method, hostname: u.hostname, port: u.port, path: u.pathname + u.search,
      headers: host ? { host } : {}, timeout: 5000 }, (res) => { res.resume(); console.log(res.statusCode); });
    req.on("error", () => console.log("000"));
    req.on("timeout", () => { req.destroy(); });
    req.end();
  ' "$@"
}

wait_for() { # wait_for PATH -> waits until PATH answers 200 or the server dies
  local deadline=$((SECONDS + ${REPLAY_TIMEOUT:-60})) code=000
  while (( SECONDS < deadline )); do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo dead; return; }
    code="$(status GET "http://127.0.0.1:$PORT$1")"
    [[ "$code" == 200 ]] && break
    sleep 0.5
  done
  echo "$code"
}

code="$(wait_for /healthz)"
if [[ "$code" == 200 ]]; then ok "GET /healthz 200"; else bad "GET /healthz answered $code"; tail -n 40 "$WORK/server.log"; exit 1; fi
code="$(wait_for /readyz)"
[[ "$code" == 200 ]] && ok "GET /readyz 200" || bad "GET /readyz answered $code"

# The image's HEALTHCHECK command, taken from the Dockerfile and run as the container would.
HC_ARGV=()
mapfile -d '' HC_ARGV < <(node -e '
  const m = /^HEALTHCHECK[^\n]*?CMD (\[.*\])\s*$/m.exec(require("node:fs").readFileSync("Dockerfile","utf8").replace(/\\\n\s*/g, ""));
  if (m) for (const a of JSON.parse(m[1])) process.stdout.write(a + "\0");
')
if (( ${#HC_ARGV[@]} > 0 )); then
  if (cd "$APP" && "${RUN_AS[@]}" "${RUN_ENV[@]}" "${HC_ARGV[@]}"); then ok "Dockerfile HEALTHCHECK command exits 0 (${HC_ARGV[*]:0:2} …)"; else bad "Dockerfile HEALTHCHECK command failed"; fi
else
  bad "no exec-form HEALTHCHECK CMD found in the Dockerfile"
fi

# A route under /api that needs a token, taken from the shipped policies.yaml.
read -r METHOD PROTECTED HOSTHDR < <(cd "$APP" && node -e '
  const { parse } = require(require("node:module").createRequire(process.cwd() + "/").resolve("yaml"));
  const doc = parse(require("node:fs").readFileSync("policies.yaml", "utf8")) ?? {};
  const route = (doc.routes ?? []).find((r) => {
    const p = r?.match?.path ?? "";
    const access = r.access ?? (r.require ? "authenticated" : undefined);
    return p.startsWith("/api") && (access === "authenticated" || (r.require && access !== "public" && access !== "deny"));
  });
  const path = route ? route.match.path.split("/").map((s) => (s === "**" || s === "*" || s.startsWith(":") ? "replay" : s)).join("/") : "/api/replay";
  const method = route?.match?.methods?.[0] ?? "GET";
  const host = route?.match?.host ? route.match.host.replace(/^\*\./, "replay.") : "-";
  console.log(method, path, host);
')
[[ "$HOSTHDR" == "-" ]] && HOSTHDR=""
code="$(status "$METHOD" "http://127.0.0.1:$PORT$PROTECTED" "$HOSTHDR")"
[[ "$code" == 401 ]] && ok "$METHOD $PROTECTED without a token 401" || bad "$METHOD $PROTECTED without a token answered $code (want 401)"

if [[ -f "$APP/dist/cli/main.js" ]]; then
  if (cd "$APP" && "${RUN_AS[@]}" "${RUN_ENV[@]}" "$NODE" bin/authctl.js migrate) >"$WORK/authctl.log" 2>&1; then ok "authctl migrate runs as the unprivileged user"; else bad "authctl migrate failed (see $WORK/authctl.log)"; fi
fi

[[ -f "$DATA/authgate.sqlite" ]] && ok "SQLite database created in the data dir" || bad "no $DATA/authgate.sqlite"
written="$(find "$APP" -newer "$WORK/started" -print -quit)"
[[ -z "$written" ]] && ok "nothing written under the app dir" || bad "the server wrote $written"

kill -TERM "$SERVER_PID"
deadline=$((SECONDS + 20))
while kill -0 "$SERVER_PID" 2>/dev/null && (( SECONDS < deadline )); do sleep 0.2; done
if kill -0 "$SERVER_PID" 2>/dev/null; then
  bad "still running 20 s after SIGTERM"
else
  rc=0; wait "$SERVER_PID" || rc=$?
  SERVER_PID=""
  [[ $rc -eq 0 ]] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit $rc"
fi

echo "replay summary: $PASS ok, $FAIL failed"
[[ $FAIL -eq 0 ]] || { tail -n 20 "$WORK/server.log"; exit 1; }
