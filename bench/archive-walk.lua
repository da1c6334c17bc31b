-- wrk script for `npm run bench:archive`: requests each path of the file named by WALK_PATHS once, in order,
-- over all of wrk's connections (run it with -t1: one thread walks the list), then stops and prints
--   walk complete
-- so the harness can end wrk at once, and, from done(), the walk's own figures:
--   walk: <answered> <not 200> <seconds from the first request to the answer for the last path>
-- wrk's Requests/sec counts its whole -d duration; the walk's rate is paths / seconds.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } walk_timespec;
int clock_gettime(int clock_id, walk_timespec *tp);
]]
local clock = ffi.new("walk_timespec")
local function now()
  ffi.C.clock_gettime(1, clock) -- CLOCK_MONOTONIC
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) / 1e9
end

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

-- Globals, so that done() (in wrk's main Lua state) can read them with thread:get.
paths = {}
for line in io.lines(os.getenv("WALK_PATHS")) do paths[#paths + 1] = line end
issued = 0
answered = 0
bad = 0
started = 0
finished = 0

function request()
  if issued == 0 then started = now() end
  issued = issued + 1
  -- Past the end (at most one request per connection) the walk starts again; those few are not timed.
  return wrk.format("GET", paths[((issued - 1) % #paths) + 1])
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= 200 then bad = bad + 1 end
  if answered == #paths then
    finished = now()
    io.write("walk complete\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    io.write(string.format("walk: %d %d %.6f\n", thread:get("answered"), thread:get("bad"), thread:get("finished") - thread:get("started")))
  end
end
