-- SPDX-License-Identifier: Apache-2.0
-- wrk: POST runs/search over experiment BENCH_EXP_ID with a metric + param filter and an order_by on a metric,
-- max_results BENCH_MAX (100); the metric threshold cycles over 9 values so no two consecutive bodies are equal.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")
c.install(_G)
local exp = c.env("BENCH_EXP_ID", "0")
local maxr = c.env("BENCH_MAX", "100")
local path = c.prefix .. "/runs/search"
local bodies = {}
for i = 1, 9 do
	bodies[i] = '{"experiment_ids":["' .. exp .. '"],"filter":"metrics.m01 > 0.' .. i ..
		' and params.p03 = \'v1\'","order_by":["metrics.m02 DESC"],"max_results":' .. maxr .. '}'
end

function request()
	local s = c.next_seq()
	return wrk.format("POST", path, c.json_headers, bodies[(s % 9) + 1])
end
