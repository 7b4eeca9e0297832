--- Small helpers shared by the plugin's modules.
local M = {}

--- Calls `fn` only after `ms` milliseconds without another call; the last arguments win.
---@param fn function
---@param ms integer
---@return function
function M.debounce(fn, ms)
  local timer = vim.uv.new_timer()
  return function(...)
    local args = { ... }
    timer:stop()
    timer:start(ms, 0, vim.schedule_wrap(function()
      fn(unpack(args))
    end))
  end
end

--- Lower-case words joined by dashes, for file names.
---@param text string
---@return string
function M.slugify(text)
  return (text:lower():gsub("[^%w]+", "-"):gsub("^-+", ""):gsub("-+$", ""))
end

--- Counts the words of a note's lines.
---@param lines string[]
---@return integer
function M.word_count(lines)
  local count = 0
  for _, line in ipairs(lines) do
    for _ in line:gmatch("%S+") do
      count = count + 1
    end
  end
  return count
end

return M
