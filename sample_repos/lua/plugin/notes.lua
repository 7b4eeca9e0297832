-- Loaded by Neovim at startup: sets the plugin up with defaults unless the user does.
if vim.g.loaded_notes then
  return
end
vim.g.loaded_notes = true

vim.api.nvim_create_autocmd("VimEnter", {
  once = true,
  callback = function()
    if not vim.g.notes_manual_setup then
      require("notes").setup()
    end
  end,
})
