-- Headless Neovim end-to-end test of a pitfall rule across files: a model
-- in model.tf whose security group (in network.tf) allows no HTTPS out.
-- Opens model.tf, waits for the sagemaker_security_group_egress warning on
-- the security_group_ids line, applies its quick fix through
-- vim.lsp.buf.code_action() — the edit lands in network.tf, which Neovim
-- loads — checks that model.tf's warning goes away while network.tf is
-- still unsaved, then writes network.tf and checks it on disk.
-- Run by test/run.sh; reports on stdout, exits non-zero on failure.
local dir = assert(os.getenv("MODULE_DIR"), "MODULE_DIR")

local helpers = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "helpers.lua")
local say, fail, wait = helpers.say, helpers.fail, helpers.wait

vim.opt.hidden = true
helpers.plugin_setup()

vim.cmd("edit " .. vim.fn.fnameescape(dir .. "/model.tf"))
local model = vim.api.nvim_get_current_buf()
local function egress()
  for _, d in ipairs(vim.diagnostic.get(model)) do
    if d.code == "sagemaker_security_group_egress" then
      return d
    end
  end
end
wait(60000, "the egress warning", function()
  return egress() ~= nil
end)
local d = egress()
say("diagnostic: " .. d.message)
if d.lnum ~= 9 then
  fail("expected the warning on security_group_ids (line 10), got line " .. (d.lnum + 1))
end

vim.ui.select = function(items, _, on_choice)
  for i, item in ipairs(items) do
    local action = item.action or item[2]
    if action.title:find("Allow HTTPS", 1, true) then
      on_choice(item, i)
      return
    end
  end
  on_choice(nil, nil)
end
vim.api.nvim_win_set_cursor(0, { 10, 30 })
vim.lsp.buf.code_action()

local network_path = dir .. "/network.tf"
wait(60000, "the fix to land in network.tf", function()
  local nb = vim.fn.bufnr(network_path)
  if nb < 0 or not vim.api.nvim_buf_is_loaded(nb) then
    return false
  end
  return table.concat(vim.api.nvim_buf_get_lines(nb, 0, -1, false), "\n")
    :find("aws_vpc_security_group_egress_rule", 1, true) ~= nil
end)
wait(60000, "model.tf's warning to go away with network.tf unsaved", function()
  return egress() == nil
end)
vim.cmd("wall")
local f = assert(io.open(network_path, "rb"))
local text = f:read("*a")
f:close()
if not text:find('resource "aws_vpc_security_group_egress_rule" "model_https_egress"', 1, true) then
  fail("network.tf on disk lacks the rule:\n" .. text)
end
say("PASS (pitfalls): warning shown on model.tf, fix applied to network.tf, warning cleared before saving")
vim.cmd("qall!")
