// The script-tag build: `window.Telegraphy` is the class, whose static register, unregister
// and configure drive a default instance (the original Telegraphy API). A page may set
// `window.TELEGRAPHY_CONFIG` before loading the script instead of calling configure. Elements
// marked for fragments (docs/fragments.rst) are kept up to date with no page JavaScript.

import { Telegraphy, type TelegraphyOptions } from './client';
import { liveFragments } from './fragments';

const config = (globalThis as { TELEGRAPHY_CONFIG?: TelegraphyOptions }).TELEGRAPHY_CONFIG;
(globalThis as { Telegraphy?: typeof Telegraphy }).Telegraphy = Telegraphy;
if (config) Telegraphy.configure(config);

if (typeof document !== 'undefined') {
  const start = () => liveFragments(Telegraphy.default, document);
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}
