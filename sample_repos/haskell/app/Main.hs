-- | The interactive calculator: reads lines, prints results or errors.
module Main (main) where

import System.IO (hFlush, isEOF, stdout)

import Calc.Env
import Calc.Eval
import Calc.Lexer
import Calc.Parser
import Calc.Pretty

main :: IO ()
main = loop emptyEnv

-- | Reads, evaluates and prints until the end of input, keeping definitions.
loop :: Env -> IO ()
loop env = do
  putStr "> " >> hFlush stdout
  done <- isEOF
  if done
    then putStrLn ""
    else do
      line <- getLine
      case tokenize line >>= parseStmt >>= exec env of
        Left err -> putStrLn (pretty err) >> loop env
        Right (env', value) -> mapM_ (putStrLn . renderValue) value >> loop env'
