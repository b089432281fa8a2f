import { convertDynamicProperties } from "../../static/utils/dynamic_properties.js";

// A fork of NiceGUI's table (nicegui/elements/table.js; tests/test_data_table.py fails when that file changes) with the header cell, the row menu, the selection checkboxes and the
// badge cells compiled into it. A slot template given with add_slot is a new Vue component each time the page renders,
// so its cells were unmounted and mounted again on every live update: an open row menu closed, and a focused header or
// checkbox was replaced. These cells are compiled once with this component, so Vue patches them in place.
export default {
  template: `
    <q-table ref="qRef" :columns="convertedColumns" @fullscreen="setFullscreenClass">
      <template v-for="(_, slot) in $slots" v-slot:[slot]="slotProps">
        <slot :name="slot" v-bind="slotProps || {}" />
      </template>
      <template v-slot:header-cell="props">
        <q-th :props="props" :tabindex="props.col.sortable ? 0 : null" :aria-sort="ariaSort(props.col)"
              @keydown.enter.space.prevent="props.col.sortable && props.sort(props.col)">{{ props.col.label }}</q-th>
      </template>
      <template v-if="selectionLabels" v-slot:header-selection="props">
        <q-checkbox v-model="props.selected" dense :aria-label="selectionLabels.every" />
      </template>
      <template v-if="selectionLabels" v-slot:body-selection="props">
        <q-checkbox v-model="props.selected" dense :aria-label="selectionLabels.one + props.row[selectionLabels.name]" />
      </template>
      <template v-for="cell in badgeCells || []" :key="cell.slot" v-slot:[cell.slot]="props">
        <q-td :props="props">
          <q-badge v-if="props.row[cell.when]" :color="cell.color" :label="cell.label" />
          <span v-else>{{ props.value }}</span>
        </q-td>
      </template>
      <template v-if="rowMenu" v-slot:[menuSlot]="props">
        <q-td :props="props" auto-width>
          <q-btn v-if="itemsFor(props.row).length" flat round dense icon="more_vert" aria-haspopup="menu"
                 :aria-label="'Actions for ' + props.row[rowMenu.name]">
            <q-menu @keydown.down.prevent="move($event, 1)" @keydown.up.prevent="move($event, -1)">
              <q-list dense role="none">
                <q-item v-for="item in itemsFor(props.row)" :key="item.event" clickable v-close-popup role="menuitem"
                        @click="$emit(item.event, props.row)">
                  <q-item-section>{{ item.label }}</q-item-section>
                </q-item>
              </q-list>
            </q-menu>
          </q-btn>
        </q-td>
      </template>
    </q-table>
  `,
  props: {
    columns: Array,
    rowMenu: Object,
    selectionLabels: Object,
    badgeCells: Array,
  },
  computed: {
    convertedColumns() {
      this.columns.forEach((column) => convertDynamicProperties(column, false));
      return this.columns;
    },
    menuSlot() {
      return `body-cell-${this.rowMenu.column}`;
    },
  },
  methods: {
    // A live patch (components/paged_table.py, called through NiceGUI's getElement): the pagination and the changed
    // rows, or all rows, written into the element's state in place, where a whole update of the element would put them.
    applyPatch(patch) {
      const rows = this.$attrs.rows;
      Object.assign(this.$attrs.pagination, patch.pagination);
      if (patch.rows) rows.splice(0, rows.length, ...patch.rows);
      for (const [n, row] of Object.entries(patch.changed || {})) rows[Number(n)] = row;
    },
    // Quasar's header cells never take the focus: sortable ones do here, sort with Enter or Space, and say how.
    ariaSort(col) {
      if (!col.sortable) return null;
      if (!col.__thClass.includes("sorted")) return "none";
      return col.__thClass.includes("sort-desc") ? "descending" : "ascending";
    },
    itemsFor(row) {
      const shown = (item) => (!item.only_if || row[item.only_if]) && !(item.unless && row[item.unless]);
      return this.rowMenu.items.filter(shown);
    },
    // ArrowDown and ArrowUp move between the items (wrapping); Quasar already gives Enter, Space, Escape and Tab.
    move(event, step) {
      const items = Array.from(event.currentTarget.querySelectorAll("[role=menuitem]"));
      if (!items.length) return;
      const at = Math.max(items.indexOf(event.target), step > 0 ? -1 : 0);
      items[(at + step + items.length) % items.length].focus();
    },
    setFullscreenClass(isFullscreen) {
      // As NiceGUI's table: Quasar scrolls the table into view in a timeout when it leaves fullscreen.
      if (isFullscreen) {
        document.documentElement.classList.add("nicegui-table-fullscreen");
      } else {
        setTimeout(() => document.documentElement.classList.remove("nicegui-table-fullscreen"));
      }
    },
  },
  unmounted() {
    this.setFullscreenClass(false);
  },
};
