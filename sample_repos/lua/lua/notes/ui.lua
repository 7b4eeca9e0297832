--- The floating window that shows a note.
local config = require("notes.config")

local M = {}

--- The window options for a centered float of the configured size.
---@return table
local function float_options()
  local width = math.floor(vim.o.columns * config.options.width)
  local height = math.floor(vim.o.lines * config.options.height)
  return {
    relative = "editor",
    width = width,
    height = height,
    row = math.floor((vim.o.lines - height) / 2),
    col = math.floor((vim.o.columns - width) / 2),
    style = "minimal",
    border = "rounded",
  }
end

--- Shows `note` in a float; `q` closes it, and the text is saved when the window closes.
---@param note notes.Note
---@param handlers { on_save: fun(text: string) }
function M.open(note, handlers)
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, note.lines)
  vim.bo[buf].filetype = "markdown"
  local opts = float_options()
  opts.title = " " .. note:title() .. " "
  local win = vim.api.nvim_open_win(buf, true, opts)

  local save = function()
    handlers.on_save(table.concat(vim.api.nvim_buf_get_lines(buf, 0, -1, false), "\n"))
  end
  vim.keymap.set("n", "q", function()
    vim.api.nvim_win_close(win, true)
  end, { buffer = buf, nowait = true })
  vim.api.nvim_create_autocmd("WinClosed", { pattern = tostring(win), once = true, callback = save })
end

return M
