import { render } from 'preact';
import { App } from './views/app.js';
import { makeMarkdownRenderer } from './markdown.js';
import './styles.css';

render(<App renderMarkdown={makeMarkdownRenderer(window)} />, document.getElementById('app')!);
