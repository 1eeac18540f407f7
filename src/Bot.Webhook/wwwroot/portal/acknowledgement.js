import { $ } from './dom.js';

/** WhatsApp allows 1024 characters in a message with buttons; reminders put "Reminder: " (10) before the text. */
export const maxAcknowledgedMessageLength = 1014;

/**
 * The compose form's acknowledgement switch: "Got it" required, and when to remind who has not tapped it. The API takes
 * `acknowledgement: {required: true, remindAfter: ISO 8601 duration ≥ PT10S, maxReminders: 0..5}`.
 */
export function acknowledgementControls() {
  const required = $('#ack-required');
  const remindAfter = $('#ack-remind-after');
  const unit = $('#ack-remind-after-unit');
  const maxReminders = $('#ack-max-reminders');

  const enabled = () => required.checked;

  return {
    enabled,

    /** Shows the reminder settings only while the switch is on. */
    sync() {
      $('#ack-reminder-fields').hidden = !enabled();
    },

    /** The request's `acknowledgement`, or undefined when none is asked for. */
    value() {
      if (!enabled()) return undefined;
      const reminders = Number.parseInt(maxReminders.value, 10);
      if (reminders === 0) return { required: true, maxReminders: 0 };
      // Anything not a whole number goes as typed: the API names the field and says what it takes.
      const amount = remindAfter.value.trim();
      const duration = unit.value === 'D' ? `P${amount}D` : `PT${amount}${unit.value}`;
      return { required: true, remindAfter: duration, maxReminders: Number.isNaN(reminders) ? maxReminders.value : reminders };
    },

    /** What the draft keeps of these controls. */
    save() {
      return { required: required.checked, remindAfter: remindAfter.value, unit: unit.value, maxReminders: maxReminders.value };
    },

    restore(saved) {
      if (!saved || typeof saved !== 'object') return;
      required.checked = saved.required === true;
      if (typeof saved.remindAfter === 'string') remindAfter.value = saved.remindAfter;
      if ([...unit.options].some(o => o.value === saved.unit)) unit.value = saved.unit;
      if (typeof saved.maxReminders === 'string') maxReminders.value = saved.maxReminders;
    },
  };
}
