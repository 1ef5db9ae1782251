-- sagemaker-vpc-lsp for Neovim: starts the language server for Terraform
-- buffers. Works on Neovim 0.7 (vim.lsp.start_client) through current
-- releases (vim.lsp.start). Usage:
--
--   require("sagemaker_vpc_lsp").setup({
--     cmd = { "sagemaker-vpc-lsp" },            -- the server binary
--     settings = { severity = "warning", enable = true },
--   })
local M = {}

local defaults = {
  cmd = { "sagemaker-vpc-lsp" },
  -- json buffers are attached only for *.tf.json and *.tfvars.json files.
  filetypes = { "terraform", "terraform-vars", "json" },
  root_markers = { ".terraform", ".git" },
  -- Sent as initializationOptions and as the `sagemakerVpcLsp` section.
  settings = { enable = true, severity = "warning" },
  -- Neovim 0.7 maps an empty *.tf file to TinyFugue (`tf`); force terraform.
  fix_filetype = true,
  on_attach = nil,
  -- Called as on_exit(code, signal, client_id) when the server stops.
  on_exit = nil,
}

local config = vim.deepcopy(defaults)
local clients = {} -- root dir -> client id (Neovim 0.7 path)
local warned = false

local function notify(msg, level)
  vim.schedule(function()
    vim.notify("sagemaker-vpc-lsp: " .. msg, level or vim.log.levels.WARN)
  end)
end

local function dirname(path)
  return vim.fn.fnamemodify(path, ":h")
end

-- The nearest folder above `path` holding one of the root markers, else the
-- file's own folder.
function M.find_root(path)
  local dir = dirname(vim.fn.fnamemodify(path, ":p"))
  local current = dir
  while current and current ~= "" do
    for _, marker in ipairs(config.root_markers) do
      if vim.loop.fs_stat(current .. "/" .. marker) then
        return current
      end
    end
    local parent = dirname(current)
    if parent == current then
      break
    end
    current = parent
  end
  return dir
end

local function client_config(root)
  return {
    name = "sagemaker-vpc-lsp",
    cmd = config.cmd,
    root_dir = root,
    init_options = config.settings,
    settings = { sagemakerVpcLsp = config.settings },
    on_attach = config.on_attach,
    on_exit = config.on_exit,
  }
end

local function executable_ok()
  if vim.fn.executable(config.cmd[1]) == 1 then
    return true
  end
  if not warned then
    warned = true
    notify(
      "server '" .. config.cmd[1] .. "' is not executable or not on PATH; "
        .. "set `cmd` in require('sagemaker_vpc_lsp').setup{}",
      vim.log.levels.ERROR
    )
  end
  return false
end

-- Starts (or reuses) the server for `bufnr` and attaches it.
function M.attach(bufnr)
  bufnr = bufnr or vim.api.nvim_get_current_buf()
  local name = vim.api.nvim_buf_get_name(bufnr)
  if name == "" then
    return
  end
  if vim.bo[bufnr].filetype == "json" and not (name:match("%.tf%.json$") or name:match("%.tfvars%.json$")) then
    return
  end
  if not executable_ok() then
    return
  end
  local root = M.find_root(name)
  if vim.lsp.start then
    vim.lsp.start(client_config(root), { bufnr = bufnr })
    return
  end
  local id = clients[root]
  if not id or vim.lsp.client_is_stopped(id) then
    id = vim.lsp.start_client(client_config(root))
    clients[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
end

local function fix_filetype(args)
  local name = vim.api.nvim_buf_get_name(args.buf)
  local want = name:match("%.tfvars$") and "terraform-vars" or "terraform"
  if vim.bo[args.buf].filetype ~= want then
    vim.bo[args.buf].filetype = want
  end
end

function M.setup(opts)
  config = vim.tbl_deep_extend("force", vim.deepcopy(defaults), opts or {})
  local group = vim.api.nvim_create_augroup("sagemaker_vpc_lsp", { clear = true })
  if config.fix_filetype then
    vim.api.nvim_create_autocmd({ "BufRead", "BufNewFile" }, {
      group = group,
      pattern = { "*.tf", "*.tfvars" },
      callback = fix_filetype,
    })
  end
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    pattern = config.filetypes,
    callback = function(args)
      M.attach(args.buf)
    end,
  })
  -- Buffers opened before setup ran.
  for _, buf in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(buf) and vim.tbl_contains(config.filetypes, vim.bo[buf].filetype) then
      M.attach(buf)
    end
  end
end

return M
