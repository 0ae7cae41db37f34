/*
 * The gallery the pipeline uses now (the meta bucket's, as `facerec gallery push` writes it):
 * where it is, when it was written, each enrolled person with their photos when the folder they
 * were enrolled from still holds the same files.
 */
'use strict';
(function (F) {
  const { h, time } = F;

  function galleryView(gallery, photoSrc) {
    return h(
      'div',
      { class: 'gallery', 'data-key': 'gallery' },
      h('h2', {}, 'Gallery'),
      F.kv([
        [
          'Read from',
          gallery.source ? h('span', { class: 'mono', id: 'gallery-source' }, gallery.source) : undefined,
        ],
        ['Written', gallery.updatedAt ? time(gallery.updatedAt) : undefined],
        ['Version (ETag)', gallery.version ? h('span', { class: 'mono' }, gallery.version) : undefined],
        ['Model', gallery.modelId],
        ['People', gallery.error ? undefined : String(gallery.people.length)],
      ]),
      h(
        'p',
        { class: 'muted small' },
        'What the recognition function matches faces against now; a `facerec gallery push` shows here within seconds.',
      ),
      gallery.error ? h('p', { class: 'error-text' }, gallery.error) : null,
      gallery.photosNote ? h('p', { class: 'note' }, gallery.photosNote) : null,
      h(
        'div',
        { class: 'cards' },
        gallery.people.map((p, i) =>
          h(
            'div',
            { class: 'card', 'data-person': p.name, 'data-key': `person:${i}:${p.name}` },
            h(
              'div',
              { class: 'photos' },
              p.images.some((im) => im.photo)
                ? p.images.map((im, j) =>
                    im.photo
                      ? h('img', {
                          src: photoSrc(i, j),
                          alt: `${p.name}: ${im.file}`,
                          title: im.file,
                          loading: 'lazy',
                        })
                      : null,
                  )
                : h('div', { class: 'no-photo' }, 'no photo'),
            ),
            h('div', { class: 'person-name' }, p.name),
            h('div', { class: 'muted small' }, `${p.images.length} image${p.images.length === 1 ? '' : 's'}`),
            h(
              'ul',
              { class: 'files small' },
              p.images.slice(0, 6).map((im) => h('li', { class: 'mono' }, im.file)),
            ),
          ),
        ),
      ),
    );
  }

  F.galleryView = galleryView;
})(window.Facerec);
