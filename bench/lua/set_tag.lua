-- SPDX-License-Identifier: Apache-2.0
-- wrk: POST model-versions/set-tag on version 1 of registered model BENCH_MODEL, a distinct key per request (a
-- registry change with one event each: model_version_tag.set). Used by bench/webhooks_drain.py.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")
c.install(_G)
local model = c.env("BENCH_MODEL", "m")
local path = c.prefix .. "/model-versions/set-tag"

function request()
	local s = c.next_seq()
	local body = '{"name":"' .. model .. '","version":"1","key":"k' .. s .. '","value":"v"}'
	return wrk.format("POST", path, c.json_headers, body)
end
