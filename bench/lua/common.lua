-- SPDX-License-Identifier: Apache-2.0
-- Shared wrk plumbing for bench/lua/*.lua: parameters from BENCH_* env vars, unique sequence numbers per request,
-- the probe mode (first status + body) and one machine-readable result line; it must not print anything else.
local M = {}

function M.env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then return default end
	return v
end

function M.envnum(name, default)
	return tonumber(M.env(name, nil)) or default
end

function M.read_lines(path)
	local t = {}
	local f = assert(io.open(path, "r"), "cannot open " .. tostring(path))
	for line in f:lines() do
		if line ~= "" then t[#t + 1] = line end
	end
	f:close()
	return t
end

function M.json_escape(s)
	return (s:gsub('[%c"\\]', function(c) return string.format("\\u%04x", c:byte()) end))
end

M.prefix = M.env("BENCH_API", "/api/2.0/mlflow")
M.base = M.envnum("BENCH_SEED", 0)       -- distinct per cell, so no two cells ever send the same step or key
M.nthreads = M.envnum("BENCH_THREADS", 1)
M.probe = M.env("BENCH_PROBE", nil) ~= nil
M.json_headers = {["Content-Type"] = "application/json"}
-- BENCH_AUTH: a whole Authorization header value ("Basic ...", "Bearer ...") sent with every request
if M.env("BENCH_AUTH", nil) then M.json_headers["Authorization"] = M.env("BENCH_AUTH", nil) end

local counter = 0
-- A number no other request of this cell (any thread, any connection) gets; tid is set by setup() below.
function M.next_seq()
	counter = counter + 1
	return M.base + counter * M.nthreads + (tid or 0)
end

-- Installs the global setup/done (and the probe's response) into the calling script's environment.
function M.install(g)
	local threads = {}
	g.setup = function(thread)
		thread:set("tid", #threads)
		threads[#threads + 1] = thread
	end
	if M.probe then
		g.response = function(status, headers, body)
			if probe_status == nil then
				probe_status = status
				probe_len = #body
				probe_body = string.sub(body, 1, 300)
			end
			wrk.thread:stop()
		end
	end
	g.done = function(summary, latency, requests)
		local e = summary.errors
		local out = string.format(
			'BENCHJSON {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,"write":%d,' ..
			'"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.1f',
			summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
			latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean)
		if M.probe then
			for _, t in ipairs(threads) do
				local st = t:get("probe_status")
				if st ~= nil then
					out = out .. string.format(',"probe_status":%d,"probe_len":%d,"probe_body":"%s"', st,
						t:get("probe_len"), M.json_escape(t:get("probe_body")))
					break
				end
			end
		end
		io.write(out .. "}\n")
	end
end

return M
