// The header's links: one element for all of them (an element per link costs every open page about 4 KB of server
// memory), as a component of its own so that the links stay the same DOM nodes when the page around them updates.
// The link of the page shown says so (aria-current="page"); a portal's sub-page (/care/audit) marks its portal.
export default {
  template: `
    <div>
      <a href="/" class="nicegui-link text-h6 text-white no-underline" aria-label="Gatehouse home">Gatehouse</a>
      <a v-for="[text, href] in links" :key="href" :href="href" class="nicegui-link text-white"
         :aria-current="current(href)">{{ text }}</a>
    </div>
  `,
  props: {
    links: Array,
  },
  methods: {
    current(href) {
      const path = window.location.pathname;
      if (path === href) return "page";
      return path.startsWith(href + "/") ? "true" : null;
    },
  },
};
