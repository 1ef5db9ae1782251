-- Headless Neovim end-to-end test: sets the server up as a user would
-- (MODE=plugin: the plugin's setup{}; MODE=snippet: the README's Neovim 0.11
-- vim.lsp.config / vim.lsp.enable snippet), opens a non-compliant model,
-- waits for the diagnostic, applies the quick fix through
-- vim.lsp.buf.code_action() (choosing it in vim.ui.select), writes the file,
-- checks the written text and that the diagnostic is gone, then stops the
-- client and checks the server ended cleanly (shutdown, exit, code 0).
-- Run by test/run.sh; reports on stdout, exits non-zero on failure.
local bin = assert(os.getenv("SAGEMAKER_VPC_LSP_BIN"), "SAGEMAKER_VPC_LSP_BIN")
local file = assert(os.getenv("TF_FILE"), "TF_FILE")
local expected_file = assert(os.getenv("EXPECTED_FILE"), "EXPECTED_FILE")

local helpers = dofile(debug.getinfo(1, "S").source:sub(2):match("(.*/)") .. "helpers.lua")
local say, fail, wait = helpers.say, helpers.fail, helpers.wait

local mode = os.getenv("MODE") or "plugin"
local exit_code = nil
local function on_exit(code)
  exit_code = code
end

vim.opt.swapfile = false
if mode == "snippet" then
  -- The README's Neovim 0.11+ snippet, with the test's binary.
  vim.lsp.config("sagemaker_vpc_lsp", {
    cmd = { bin },
    filetypes = { "terraform", "terraform-vars" },
    root_markers = { ".terraform", ".git" },
    settings = { sagemakerVpcLsp = { severity = "warning" } },
    on_exit = on_exit,
  })
  vim.lsp.enable("sagemaker_vpc_lsp")
else
  helpers.plugin_setup({ settings = { severity = "warning" }, on_exit = on_exit })
end
say("mode: " .. mode .. ", " .. (vim.fn.execute("version"):match("NVIM v[%d%.]+") or "?"))

vim.cmd("edit " .. vim.fn.fnameescape(file))
local buf = vim.api.nvim_get_current_buf()
if vim.bo[buf].filetype ~= "terraform" then
  fail("filetype is '" .. vim.bo[buf].filetype .. "', expected terraform")
end

wait(10000, "the diagnostic", function()
  return #vim.diagnostic.get(buf) > 0
end)
local diagnostic = vim.diagnostic.get(buf)[1]
say("diagnostic: " .. diagnostic.message)
if not diagnostic.message:find("aws_sagemaker_model.inference", 1, true) then
  fail("unexpected message: " .. diagnostic.message)
end
if diagnostic.severity ~= vim.diagnostic.severity.WARN then
  fail("expected a warning")
end
if diagnostic.source ~= "sagemaker-vpc-lsp" then
  fail("unexpected source: " .. tostring(diagnostic.source))
end
if diagnostic.lnum ~= 0 then
  fail("expected the diagnostic on the model's header line, got " .. diagnostic.lnum)
end

-- The user path: code_action() offers choices through vim.ui.select.
local offered = {}
vim.ui.select = function(items, opts, on_choice)
  for i, item in ipairs(items) do
    -- Neovim 0.7 passes {client_id, action}; later versions {ctx, action}
    -- or a table with .action.
    local action = item.action or item[2]
    table.insert(offered, action.title)
    if action.title == "Add vpc_config block" then
      on_choice(item, i)
      return
    end
  end
  on_choice(nil, nil)
end
vim.api.nvim_win_set_cursor(0, { 1, 12 })
vim.lsp.buf.code_action()
wait(10000, "the fix to be applied", function()
  return table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n"):find("vpc_config {", 1, true) ~= nil
end)
say("offered: " .. table.concat(offered, " | "))

vim.cmd("write")
wait(10000, "the diagnostic to go away", function()
  return #vim.diagnostic.get(buf) == 0
end)

local function read(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end
local written, expected = read(file), read(expected_file)
if written ~= expected then
  fail("written text differs:\n" .. written .. "\n--- expected ---\n" .. expected)
end
-- Stopping the client shuts the server down: shutdown, exit, code 0.
for _, client in ipairs((vim.lsp.get_clients or vim.lsp.get_active_clients)()) do
  vim.lsp.stop_client(client.id)
end
wait(10000, "the server to exit", function()
  return exit_code ~= nil
end)
if exit_code ~= 0 then
  fail("the server exited with code " .. tostring(exit_code))
end
say("PASS (" .. mode .. "): diagnostic shown, quick fix applied, file written, diagnostic cleared, server exited 0")
vim.cmd("qall!")
