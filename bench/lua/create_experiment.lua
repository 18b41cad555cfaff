-- SPDX-License-Identifier: Apache-2.0
-- wrk: POST experiments/create with a name no other request of the run uses (bench-new-<seq>) and one tag.
-- Write-only; the created experiments are thrown away with the database copy after the repetition.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")
c.install(_G)
local path = c.prefix .. "/experiments/create"

function request()
	local s = c.next_seq()
	local body = '{"name":"bench-new-' .. s .. '","tags":[{"key":"bench","value":"create-experiment"}]}'
	return wrk.format("POST", path, c.json_headers, body)
end
