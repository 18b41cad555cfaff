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
