-- SPDX-License-Identifier: Apache-2.0
-- wrk: POST runs/log-batch of BENCH_METRICS metrics (keys m0000..) or BENCH_PARAMS params on the runs listed in
-- BENCH_RUNS_FILE (round robin); every request has its own step (metrics) or key prefix (params), so no batch
-- ever collides with another. Bodies are pre-split once and joined per request with table.concat (cheap).
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")
c.install(_G)
local nmetrics = c.envnum("BENCH_METRICS", 0)
local nparams = c.envnum("BENCH_PARAMS", 0)
local path = c.prefix .. "/runs/log-batch"
local runs

-- metric i: {"key":"m0007","value":0.123,"timestamp":<T>,"step":<S>}; the split points are "<T>,"step":<S>"
local mparts = {}
for i = 0, nmetrics - 1 do
	local head = (i == 0) and '' or '},'
	mparts[#mparts + 1] = head .. string.format('{"key":"m%04d","value":%.6f,"timestamp":', i, ((i * 7919) % 1000) / 1000)
end
if nmetrics > 0 then mparts[#mparts + 1] = '}' end

function init(args)
	runs = c.read_lines(c.env("BENCH_RUNS_FILE", "runs.txt"))
	math.randomseed(c.base + (tid or 0))
end

-- Paced mode (BENCH_RATE req/s offered over BENCH_CONNS connections): each connection waits an exponentially
-- distributed think time (mean BENCH_CONNS / BENCH_RATE s) before its next request, so arrivals are close to a
-- Poisson process at the offered rate while the server keeps up; wrk's latency excludes the wait. Not a true open
-- loop: a connection stuck on a slow reply sends nothing meanwhile (coordinated omission), so a server that cannot
-- keep up shows a lower achieved rate rather than queueing delay. The achieved rate is reported beside the p99.
local rate = c.envnum("BENCH_RATE", 0)
if rate > 0 then
	local mean_ms = c.envnum("BENCH_CONNS", 64) * 1000 / rate
	function delay()
		return -math.log(1 - math.random()) * mean_ms
	end
end

function request()
	local s = c.next_seq()
	local run = runs[(s % #runs) + 1]
	local body
	if nmetrics > 0 then
		local sep = (1700000000000 + s) .. ',"step":' .. s
		body = '{"run_id":"' .. run .. '","metrics":[' .. table.concat(mparts, sep) .. ']}'
	else
		local p = {}
		for j = 1, nparams do
			p[j] = '{"key":"p' .. s .. '_' .. j .. '","value":"v' .. j .. '"}'
		end
		body = '{"run_id":"' .. run .. '","params":[' .. table.concat(p, ',') .. ']}'
	end
	return wrk.format("POST", path, c.json_headers, body)
end
