--- A note: the text of one project's notes file.
---@class notes.Note
---@field path string
---@field lines string[]
---@field modified boolean
local Note = {}
Note.__index = Note

--- Creates a note for `path` with the given lines.
---@param path string
---@param lines? string[]
---@return notes.Note
function Note.new(path, lines)
  return setmetatable({ path = path, lines = lines or {}, modified = false }, Note)
end

--- Replaces the whole text.
---@param text string
function Note:set_text(text)
  self.lines = vim.split(text, "\n", { plain = true })
  self.modified = true
end

--- Adds one line at the end, with a timestamp.
---@param line string
function Note:append(line)
  table.insert(self.lines, os.date("%Y-%m-%d %H:%M ") .. line)
  self.modified = true
end

--- The first heading of the note, or its first line.
---@return string
function Note:title()
  for _, line in ipairs(self.lines) do
    local heading = line:match("^#+%s+(.+)")
    if heading then
      return heading
    end
  end
  return self.lines[1] or ""
end

function Note:__tostring()
  return ("Note(%s, %d lines)"):format(self.path, #self.lines)
end

return Note
