--- notes.nvim: quick per-project notes in a floating window.
local config = require("notes.config")
local store = require("notes.store")
local ui = require("notes.ui")

local M = {}

--- Sets the plugin up with the user's options and registers its commands.
---@param opts? notes.Config
function M.setup(opts)
  config.setup(opts)
  require("notes.commands").register()
end

--- Opens the notes of the current project in a floating window.
function M.open()
  local note = store.load(config.project_root())
  ui.open(note, {
    on_save = function(text)
      note:set_text(text)
      store.save(note)
    end,
  })
end

--- Appends a line to the project's notes without opening them.
---@param line string
function M.append(line)
  local note = store.load(config.project_root())
  note:append(line)
  store.save(note)
end

return M
