---@class notes.Config
---@field dir string where the notes files live
---@field width number floating window width, as a fraction of the editor
---@field height number floating window height, as a fraction of the editor
---@field root_markers string[] files that mark a project's root

local M = {}

---@type notes.Config
M.defaults = {
  dir = vim.fn.stdpath("data") .. "/notes",
  width = 0.6,
  height = 0.5,
  root_markers = { ".git", "package.json", "Cargo.toml" },
}

---@type notes.Config
M.options = vim.deepcopy(M.defaults)

--- Merges the user's options over the defaults.
---@param opts? notes.Config
function M.setup(opts)
  M.options = vim.tbl_deep_extend("force", {}, M.defaults, opts or {})
  vim.fn.mkdir(M.options.dir, "p")
end

--- The root directory of the project of the current buffer: the nearest parent
--- holding one of the root markers, else the working directory.
---@return string
function M.project_root()
  local path = vim.api.nvim_buf_get_name(0)
  local found = vim.fs.find(M.options.root_markers, { path = path, upward = true })[1]
  return found and vim.fs.dirname(found) or vim.uv.cwd()
end

return M
