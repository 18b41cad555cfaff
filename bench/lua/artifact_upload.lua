-- SPDX-License-Identifier: Apache-2.0
-- wrk: PUT BENCH_SIZE bytes to BENCH_PATH_PREFIX/<slot>/blob.bin (mlflow-artifacts proxy), cycling over
-- BENCH_SLOTS slots so the disk use stays bounded; the body is built once per thread.
package.path = os.getenv("BENCH_LUA") .. "/?.lua;" .. package.path
local c = require("common")
c.install(_G)
local size = c.envnum("BENCH_SIZE", 1048576)
local slots = c.envnum("BENCH_SLOTS", 8)
local prefix = c.env("BENCH_PATH_PREFIX", "/api/2.0/mlflow-artifacts/artifacts/bench/up")
local body
local headers = {["Content-Type"] = "application/octet-stream"}

function init(args)
	body = string.rep("0123456789abcdef", math.floor(size / 16)) .. string.rep("x", size % 16)
end

function request()
	local s = c.next_seq()
	return wrk.format("PUT", prefix .. "/" .. tostring(s % slots) .. "/blob.bin", headers, body)
end
