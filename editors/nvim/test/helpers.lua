-- What the headless Neovim tests share: reporting on stdout, failing with a
-- non-zero exit, and waiting for a condition (never for a fixed time).
local M = {}

function M.say(msg)
  io.stdout:write(msg .. "\n")
end

function M.fail(msg)
  M.say("FAIL: " .. msg)
  vim.cmd("cquit 1")
end

function M.wait(ms, what, cond)
  if not vim.wait(ms, cond, 20) then
    M.fail("timed out waiting for " .. what)
  end
end

return M
