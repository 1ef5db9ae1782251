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

-- Sets the server up through the plugin, as its README does, with the
-- test's server binary (SAGEMAKER_VPC_LSP_BIN) and plugin folder
-- (PLUGIN_DIR); `options` go to setup{} as well.
function M.plugin_setup(options)
  local bin = assert(os.getenv("SAGEMAKER_VPC_LSP_BIN"), "SAGEMAKER_VPC_LSP_BIN")
  local plugin = assert(os.getenv("PLUGIN_DIR"), "PLUGIN_DIR")
  vim.opt.swapfile = false
  vim.opt.runtimepath:prepend(plugin)
  require("sagemaker_vpc_lsp").setup(vim.tbl_extend("force", { cmd = { bin } }, options or {}))
end

return M
