"""The web console of `fixloop serve` (`/console`): server-rendered HTML, no scripts.

Pages: the incidents (filtered, newest first, paginated), one incident (audit timeline,
diagnosis with evidence, diff, proof, reproduction, model usage), the eval reports under the
state directory with a comparison of two, and health. It reads the stored records and calls no
outside system; the one write is a review, as `fixloop review` does it, and only signed in.
"""
