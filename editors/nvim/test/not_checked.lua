-- Headless Neovim end-to-end test of a model that cannot be checked: opens
-- model.tf (its warning), breaks the model's `name` into `[,]` as a user
-- might mid-edit, waits for the warning to become a hint naming the model
-- as not checked, then restores the line and waits for the warning again.
-- Nothing is saved. Run by test/run.sh; reports on stdout, exits non-zero
-- on failure.
local file = assert(os.getenv("TF_FILE"), "TF_FILE")

local helpers = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "helpers.lua")
local say, fail, wait = helpers.say, helpers.fail, helpers.wait

helpers.plugin_setup()

vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
local S = vim.diagnostic.severity
-- The only diagnostic of the buffer, if there is exactly one of `severity`.
local function only(severity)
  local all = vim.diagnostic.get(buf)
  if #all == 1 and all[1].severity == severity then
    return all[1]
  end
end

wait(20000, "the warning", function()
  return only(S.WARN) ~= nil
end)
local original = vim.api.nvim_buf_get_lines(buf, 1, 2, false)
vim.api.nvim_buf_set_lines(buf, 1, 2, false, { "  name               = [,]" })
wait(20000, "the not-checked hint", function()
  return only(S.HINT) ~= nil
end)
local d = only(S.HINT)
say("diagnostic: " .. d.message)
if not d.message:find("aws_sagemaker_model.inference was not checked", 1, true) then
  fail("unexpected message: " .. d.message)
end
if d.lnum ~= 0 then
  fail("expected the hint on the model's header line, got " .. d.lnum)
end
vim.api.nvim_buf_set_lines(buf, 1, 2, false, original)
wait(20000, "the warning to come back", function()
  return only(S.WARN) ~= nil
end)
say("PASS (not checked): a hint while the model does not parse, the warning once it does")
vim.cmd("qall!")
