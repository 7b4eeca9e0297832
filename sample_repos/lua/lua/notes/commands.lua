--- User commands: :Notes, :NotesAppend and :NotesList.
local M = {}

-- Subcommand handlers of :Notes, by name.
local subcommands = {
  open = function()
    require("notes").open()
  end,
  list = function()
    M.pick_file()
  end,
}

--- Lets the user pick a notes file and opens it in a split.
function M.pick_file()
  local files = require("notes.store").list()
  vim.ui.select(files, { prompt = "Notes" }, function(choice)
    if choice then
      vim.cmd.split(vim.fn.fnameescape(choice))
    end
  end)
end

--- Completes subcommand names for :Notes.
---@param lead string
---@return string[]
local function complete(lead)
  return vim.tbl_filter(function(name)
    return vim.startswith(name, lead)
  end, vim.tbl_keys(subcommands))
end

--- Creates the plugin's user commands.
function M.register()
  vim.api.nvim_create_user_command("Notes", function(args)
    local handler = subcommands[args.fargs[1] or "open"]
    if not handler then
      vim.notify("notes: unknown subcommand " .. args.fargs[1], vim.log.levels.WARN)
      return
    end
    handler()
  end, { nargs = "?", complete = complete })
  vim.api.nvim_create_user_command("NotesAppend", function(args)
    require("notes").append(args.args)
  end, { nargs = "+" })
end

return M
