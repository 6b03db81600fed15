/**
 * The demo's configuration: the sample's setup (config/callbackd.toml) on a simulated
 * line, with timings shortened so the whole call-back takes seconds, and the pppd
 * stand-in instead of pppd (this kind of machine may have no kernel PPP).
 */
export function demoConfig(o: {
  dir: string;
  device: string;
  socket: string;
  pppd: string[];
  hash: string;
}): string {
  const [path, ...prefix] = o.pppd;
  return `# callbackd demo configuration (generated)
[daemon]
lock_dir = ${JSON.stringify(o.dir)}
state_dir = ${JSON.stringify(o.dir)}
accounting_file = ${JSON.stringify(`${o.dir}/accounting.jsonl`)}
hostname = "demo"
control_socket = ${JSON.stringify(`${o.dir}/control`)}
nologin_dir = ${JSON.stringify(o.dir)}

[timing]
settle = "300ms"
announce = "500ms"
dtr_low = "100ms"
chat_pause = "100ms"
health_check = 0
login = "30s"
login_grace = "10s"

[login]
issue = '\\nWelcome to @ (\\L). This is the callbackd demo.\\n\\n'
callback_message = '\\nCalling you back at \\N. Hang up now.\\n'

[[lines]]
device = ${JSON.stringify(o.device)}
name = "ttyS1"
flow_control = "none"
rings = 2   # the caller's number arrives between the first and second RING
init = '"" ATZ OK ATQ0V1E0S0=0&D3&C1 OK AT+VCID=1 OK'
signals = { kind = "sim", socket = ${JSON.stringify(o.socket)} }

[[callbacks]]
name = "call"
number = "123456"
delay = "2s"
attempts = 3
retry_delay = "2s"

[[ppp_users]]
name = "pppuser"
password_hash = ${JSON.stringify(o.hash)}

[pppd]
path = ${JSON.stringify(path)}
prefix_args = ${JSON.stringify(prefix)}
options = ["require-pap", "refuse-chap", "proxyarp", "ms-dns", "192.168.1.1"]
local_address = "192.168.1.1"
remote_address = "192.168.1.2"
autoppp_after_callback = true
`;
}
