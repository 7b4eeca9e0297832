'use strict';

/**
 * Check a task payload and return a list of human-readable problems.
 * @param {object} task
 * @returns {string[]}
 */
function validateTask(task) {
  const errors = [];
  if (!task || typeof task.title !== 'string' || task.title.trim() === '') {
    errors.push('title is required');
  }
  if (task && task.due && Number.isNaN(Date.parse(task.due))) {
    errors.push('due must be a date');
  }
  if (task && task.priority && !['low', 'normal', 'high'].includes(task.priority)) {
    errors.push('priority must be low, normal or high');
  }
  return errors;
}

// Returns true when the string looks like an e-mail address.
const isEmail = (value) => /^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value);

/**
 * Escape characters that have a meaning in HTML so user text can be shown safely.
 */
const escapeHtml = function (text) {
  return String(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;');
};

module.exports = { validateTask, isEmail, escapeHtml };
