// The older majors are installed under npm aliases; their APIs used here match the latest's types.
declare module 'express4' {
  import express from 'express'
  export default express
}
declare module 'koa2' {
  import Koa from 'koa'
  export default Koa
}
