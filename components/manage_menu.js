// A button with a menu of items, each emitting "choose" with its key. One element for the whole menu: a
// ui.menu with ui.menu_item elements costs every open page about 30 KB of server memory. A component of its own
// (rather than a slot template, which NiceGUI re-creates on every render of the parent) keeps the open menu and
// the focused item when the page around it updates.
export default {
  template: `
    <q-btn no-caps outline icon="expand_more" :label="label" aria-haspopup="menu">
      <q-menu @keydown.down.prevent="move($event, 1)" @keydown.up.prevent="move($event, -1)">
        <q-item v-for="[key, text] in items" :key="key" clickable v-close-popup role="menuitem"
                @click="$emit('choose', key)">
          <q-item-section>{{ text }}</q-item-section>
        </q-item>
      </q-menu>
    </q-btn>
  `,
  props: {
    label: String,
    items: Array,
  },
  methods: {
    // ArrowDown and ArrowUp move between the items (wrapping); Quasar already gives Enter, Space, Escape and Tab.
    move(event, step) {
      const items = Array.from(event.currentTarget.querySelectorAll("[role=menuitem]"));
      if (!items.length) return;
      const at = Math.max(items.indexOf(event.target), step > 0 ? -1 : 0);
      items[(at + step + items.length) % items.length].focus();
    },
  },
};
