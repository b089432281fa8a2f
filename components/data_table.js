import { convertDynamicProperties } from "../../static/utils/dynamic_properties.js";

// A fork of NiceGUI's table (nicegui/elements/table.js; tests/test_data_table.py fails when that file changes) with the header cell, the row menu, the selection checkboxes and the
// badge cells compiled into it. A slot template given with add_slot is a new Vue component each time the page renders,
// so its cells were unmounted and mounted again on every live update: an open row menu closed, and a focused header or
// checkbox was replaced. These cells are compiled once with this component, so Vue patches them in place.
//
// Below Quasar's md breakpoint (1024 px) no table of ours fits beside its columns: each row becomes a card (Quasar's
// grid mode) that names the row, holds its checkbox and ⋮ menu beside the name and lists every other column, label
// and value, in full; a Sort by select stands in for the header cells. Wider, cells wrap (wrap-cells) and columns
// marked break-anywhere (addresses) break inside words, so the table fits its box with the ⋮ column in sight; a
// table that still overflows (a zoomed page) gets a focusable, named scroll area for the keyboard.
const RowMenu = {
  template: `
    <q-btn flat round dense icon="more_vert" aria-haspopup="menu" :aria-label="'Actions for ' + name">
      <q-menu @keydown.down.prevent="move($event, 1)" @keydown.up.prevent="move($event, -1)">
        <q-list dense role="none">
          <q-item v-for="item in items" :key="item.event" clickable v-close-popup role="menuitem"
                  @click="$emit('choose', item.event)">
            <q-item-section>{{ item.label }}</q-item-section>
          </q-item>
        </q-list>
      </q-menu>
    </q-btn>
  `,
  props: { name: String, items: Array },
  emits: ["choose"],
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

export default {
  components: { RowMenu },
  template: `
    <q-table ref="qRef" :columns="convertedColumns" :grid="narrow" wrap-cells @fullscreen="setFullscreenClass"
             :pagination-label="paginationLabel">
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
          <row-menu v-if="itemsFor(props.row).length" :name="props.row[rowMenu.name]" :items="itemsFor(props.row)" @choose="$emit($event, props.row)" />
        </q-td>
      </template>
      <template v-if="narrow" v-slot:top>
        <div class="q-table__title col-12">{{ $attrs.title }}</div>
        <div v-if="sortOptions.length" class="row items-center no-wrap gap-1 q-mt-sm">
          <q-select :options="sortOptions" :model-value="$attrs.pagination.sortBy" @update:model-value="sortBy"
                    emit-value map-options outlined dense label="Sort by" class="w-56" />
          <q-btn flat round dense :icon="$attrs.pagination.descending ? 'arrow_downward' : 'arrow_upward'"
                 :aria-label="$attrs.pagination.descending ? 'Sorted descending: sort ascending' : 'Sorted ascending: sort descending'"
                 @click="sortBy($attrs.pagination.sortBy)" />
        </div>
      </template>
      <template v-if="narrow" v-slot:item="props">
        <div class="col-12 q-pa-xs">
          <div class="q-table__grid-item-card q-table__card q-pa-sm" role="group" :aria-label="nameOf(props.row)">
            <div class="row items-center no-wrap gap-2">
              <q-checkbox v-if="selectionLabels" v-model="props.selected" dense
                          :aria-label="selectionLabels.one + props.row[selectionLabels.name]" />
              <div class="grow text-weight-medium break-anywhere">{{ nameOf(props.row) }}</div>
              <row-menu v-if="rowMenu && itemsFor(props.row).length" :name="props.row[rowMenu.name]" :items="itemsFor(props.row)"
                        @choose="$emit($event, props.row)" />
            </div>
            <dl class="q-ma-none">
              <div v-for="col in cardColumns(props.cols)" :key="col.name" class="row gap-2 q-py-xs">
                <dt class="text-grey-8">{{ col.label }}</dt>
                <dd class="q-ma-none break-anywhere">
                  <q-badge v-if="badgeFor(col, props.row)" :color="badgeFor(col, props.row).color"
                           :label="badgeFor(col, props.row).label" />
                  <span v-else>{{ col.value }}</span>
                </dd>
              </div>
            </dl>
          </div>
        </div>
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
    narrow() {
      return this.$q.screen.lt.md;
    },
    sortOptions() {
      return this.columns.filter((col) => col.sortable).map((col) => ({ label: col.label, value: col.name }));
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
    // "1-25 of 80" as Quasar says it; a search that matched more than the server counts (its pagination's `capped`,
    // services/invitations/pending.py) says so: "1-25 of more than 1,000 matches".
    paginationLabel(first, end, total) {
      if (!this.$attrs.pagination?.capped) return this.$q.lang.table.pagination(first, end, total);
      return `${first}-${end} of more than ${total.toLocaleString("en")} matches`;
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
    // A card is named by the row menu's name field, or else by its first column.
    nameField() {
      return this.rowMenu ? this.rowMenu.name : this.columns[0].field;
    },
    nameOf(row) {
      return row[this.nameField()];
    },
    cardColumns(cols) {
      const hidden = [this.rowMenu && this.rowMenu.column];
      return cols.filter((col) => !hidden.includes(col.name) && col.field !== this.nameField());
    },
    badgeFor(col, row) {
      return (this.badgeCells || []).find((cell) => cell.slot === `body-cell-${col.name}` && row[cell.when]);
    },
    sortBy(name) {
      this.$refs.qRef.sort(name);
    },
    // A table wider than its box (only on a zoomed page) scrolls sideways: the scroll area takes the focus, named.
    markScrollArea() {
      const area = this.$el.querySelector(".q-table__middle");
      if (!area) return;
      if (area.scrollWidth > area.clientWidth + 1) {
        area.setAttribute("tabindex", "0");
        area.setAttribute("role", "region");
        area.setAttribute("aria-label", `${this.$attrs.title || "Table"}, scrolls sideways`);
      } else {
        ["tabindex", "role", "aria-label"].forEach((name) => area.removeAttribute(name));
      }
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
  mounted() {
    this.resizeObserver = new ResizeObserver(() => this.markScrollArea());
    this.resizeObserver.observe(this.$el);
  },
  updated() {
    this.markScrollArea();
  },
  unmounted() {
    this.resizeObserver.disconnect();
    this.setFullscreenClass(false);
  },
};
