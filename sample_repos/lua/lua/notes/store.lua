--- Reading and writing notes files, one per project, named by a hash of the project root.
local config = require("notes.config")
local Note = require("notes.note")

local M = {}

-- Notes already read, by path, so reopening does not hit the disk.
local cache = {}

--- The file that holds the notes of `root`.
---@param root string
---@return string
function M.path_for(root)
  local name = vim.fs.basename(root) .. "-" .. vim.fn.sha256(root):sub(1, 8) .. ".md"
  return config.options.dir .. "/" .. name
end

--- Loads the notes of a project, or an empty note if it has none yet.
---@param root string
---@return notes.Note
function M.load(root)
  local path = M.path_for(root)
  if cache[path] then
    return cache[path]
  end
  local ok, lines = pcall(vim.fn.readfile, path)
  local note = Note.new(path, ok and lines or { "# " .. vim.fs.basename(root), "" })
  cache[path] = note
  return note
end

--- Writes a note to disk if it changed.
---@param note notes.Note
---@return boolean written
function M.save(note)
  if not note.modified then
    return false
  end
  local tmp = note.path .. ".tmp"
  vim.fn.writefile(note.lines, tmp)
  local ok, err = os.rename(tmp, note.path)
  if not ok then
    vim.notify("notes: could not save " .. note.path .. ": " .. err, vim.log.levels.ERROR)
    return false
  end
  note.modified = false
  return true
end

--- Every notes file, newest first.
---@return string[]
M.list = function()
  local files = vim.fn.glob(config.options.dir .. "/*.md", false, true)
  table.sort(files, function(a, b)
    return vim.fn.getftime(a) > vim.fn.getftime(b)
  end)
  return files
end

return M
