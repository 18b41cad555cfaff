-- SPDX-License-Identifier: Apache-2.0
-- wrk: one fixed request (BENCH_METHOD BENCH_PATH, optional JSON body from BENCH_BODY_FILE), e.g. get-history,
-- get-history-bulk-interval, search-experiments, artifact download. Read-only operations only.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")
c.install(_G)
local method = c.env("BENCH_METHOD", "GET")
local path = c.env("BENCH_PATH", "/health")
local body = nil
local bf = c.env("BENCH_BODY_FILE", nil)
if bf then
	local f = assert(io.open(bf, "rb"))
	body = f:read("*a")
	f:close()
end
local req

function request()
	if req == nil then
		req = wrk.format(method, path, body and c.json_headers or {}, body)
	end
	return req
end
