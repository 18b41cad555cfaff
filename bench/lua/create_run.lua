-- SPDX-License-Identifier: Apache-2.0
-- wrk: POST runs/create into experiment BENCH_EXP_ID, a distinct run name and start time per request, two tags.
-- Loads nothing and checks nothing itself (bench.py probes the first reply and counts non-2xx from wrk's summary).
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")
c.install(_G)
local exp = c.env("BENCH_EXP_ID", "0")
local path = c.prefix .. "/runs/create"

function request()
	local s = c.next_seq()
	local body = '{"experiment_id":"' .. exp .. '","run_name":"w' .. s .. '","start_time":' .. (1700000000000 + s) ..
		',"tags":[{"key":"bench","value":"create-run"},{"key":"seq","value":"' .. s .. '"}]}'
	return wrk.format("POST", path, c.json_headers, body)
end
